#include "core/block.hpp"

#include "crypto/sha256.hpp"

namespace peerchain::core {

std::array<std::uint8_t, kHeaderSize> BlockHeader::encode() const noexcept {
    std::array<std::uint8_t, kHeaderSize> out;
    auto put32 = [&](std::size_t at, std::uint32_t v) {
        for (std::size_t i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    put32(0, version);
    std::memcpy(out.data() + 4, prev_hash.data(), 32);
    std::memcpy(out.data() + 36, merkle_root.data(), 32);
    put32(68, time);
    put32(72, bits);
    put32(76, nonce);
    return out;
}

Uint256 BlockHeader::hash() const noexcept {
    const auto bytes = encode();
    return Uint256(crypto::sha256d(bytes));
}

void BlockHeader::serialize(Writer& w) const { w.bytes(encode()); }

util::Result<BlockHeader> decode_header(Reader& r) noexcept {
    BlockHeader h;
    if (!r.u32(h.version) || !r.hash(h.prev_hash) || !r.hash(h.merkle_root) || !r.u32(h.time) ||
        !r.u32(h.bits) || !r.u32(h.nonce)) {
        return util::Unexpected(util::Errc::kDecode, "header: short");
    }
    return h;
}

util::Result<BlockHeader> decode_header(util::ByteSpan bytes) noexcept {
    Reader r(bytes);
    auto h = decode_header(r);
    if (h && !r.at_end()) return util::Unexpected(util::Errc::kDecode, "header: trailing bytes");
    return h;
}

void Block::serialize(Writer& w) const {
    header.serialize(w);
    w.compact_size(txs.size());
    for (const auto& tx : txs) tx.serialize(w);
}

util::Bytes Block::encode() const {
    util::Bytes out;
    out.reserve(serialized_size());
    Writer w(out);
    serialize(w);
    return out;
}

std::size_t Block::serialized_size() const noexcept {
    std::size_t n = kHeaderSize + compact_size_length(txs.size());
    for (const auto& tx : txs) n += tx.serialized_size();
    return n;
}

util::Result<Block> decode_block(util::ByteSpan bytes, std::size_t max_size) {
    if (bytes.size() > max_size) return util::Unexpected(util::Errc::kDecode, "block: too large");
    Reader r(bytes);
    Block block;
    auto header = decode_header(r);
    if (!header) return util::Unexpected(header.error());
    block.header = *header;
    // The smallest transaction is 4+1+1+4+1 = 11 bytes, which bounds the count.
    std::uint64_t n_tx = 0;
    if (!r.compact_size(n_tx, r.remaining() / 11)) {
        return util::Unexpected(util::Errc::kDecode, "block: bad transaction count");
    }
    block.txs.reserve(static_cast<std::size_t>(n_tx));
    for (std::uint64_t i = 0; i < n_tx; ++i) {
        auto tx = decode_transaction(r);
        if (!tx) return util::Unexpected(tx.error());
        block.txs.push_back(std::move(*tx));
    }
    if (!r.at_end()) return util::Unexpected(util::Errc::kDecode, "block: trailing bytes");
    return block;
}

}  // namespace peerchain::core
