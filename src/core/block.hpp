// Block headers and blocks.
//
//   header := version:u32 prev_hash:32 merkle_root:32 time:u32 bits:u32 nonce:u32  (80 bytes)
//   block  := header n_tx:compact_size tx*
//
//   block id := SHA256d(header); valid work when the id, read as a little-endian 256-bit
//   integer, is at most the target that `bits` encodes (pow.hpp).
//
// Thread-safety: plain value types; share blocks as shared_ptr<const Block>.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/serialize.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"

namespace peerchain::core {

inline constexpr std::size_t kHeaderSize = 80;

struct BlockHeader {
    std::uint32_t version = 1;
    Uint256 prev_hash;
    Uint256 merkle_root;
    std::uint32_t time = 0;
    std::uint32_t bits = 0;
    std::uint32_t nonce = 0;

    Uint256 hash() const noexcept;
    std::array<std::uint8_t, kHeaderSize> encode() const noexcept;
    void serialize(Writer& w) const;

    friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

util::Result<BlockHeader> decode_header(Reader& r) noexcept;
util::Result<BlockHeader> decode_header(util::ByteSpan bytes) noexcept;

struct Block {
    BlockHeader header;
    std::vector<Transaction> txs;

    Uint256 hash() const noexcept { return header.hash(); }
    void serialize(Writer& w) const;
    util::Bytes encode() const;
    std::size_t serialized_size() const noexcept;

    friend bool operator==(const Block&, const Block&) = default;
};

using BlockPtr = std::shared_ptr<const Block>;

// Decodes exactly one block: no trailing bytes, at most `max_size` bytes in all (checked
// first). Fails with kDecode.
util::Result<Block> decode_block(util::ByteSpan bytes, std::size_t max_size);

}  // namespace peerchain::core
