// BlockIndex: one node of the in-memory tree of every valid header the node knows, with
// the cumulative work of the chain that ends in it.
//
// Ownership: the Chainstate owns every BlockIndex and never frees one while it lives, so a
// `const BlockIndex*` stays valid for the Chainstate's lifetime.
// Thread-safety: hash, header, prev, height and chain_work never change after insertion
// and may be read from any thread without a lock. `status` and `data_pos` change on the
// chain executor only; read them through Chainstate (under its lock) from other threads.
#pragma once

#include <cstdint>
#include <string>

#include "core/arith_uint256.hpp"
#include "core/block.hpp"
#include "core/uint256.hpp"
#include "store/flat_files.hpp"

namespace peerchain::chain {

enum BlockStatus : std::uint32_t {
    kHaveData = 1u << 0,     // the full block is stored
    kHaveUndo = 1u << 1,     // it was connected once and its undo data is stored
    kFailedValid = 1u << 2,  // the block itself broke a rule
    kFailedChild = 1u << 3,  // an ancestor broke a rule
};

struct BlockIndex {
    core::Uint256 hash;
    core::BlockHeader header;
    const BlockIndex* prev = nullptr;
    // Bitcoin's skip pointer: an ancestor at a height chosen so that ancestor() takes
    // O(log n) steps.
    const BlockIndex* skip = nullptr;
    std::uint32_t height = 0;
    core::ArithUint256 chain_work;  // work of every block from genesis to this one
    std::uint32_t status = 0;
    // Where the body is in the flat files (docs/STORAGE.md); null when it is not stored,
    // or stored under 'b' by an older format.
    store::FlatPos data_pos;

    bool failed() const noexcept { return (status & (kFailedValid | kFailedChild)) != 0; }
    // The ancestor at `h` (this block when h == height); nullptr when h > height.
    const BlockIndex* ancestor(std::uint32_t h) const noexcept;
    // Median of the times of this block and up to ten before it.
    std::int64_t median_time_past() const noexcept;
};

// The last common ancestor of a and b (both non-null, in the same tree).
const BlockIndex* last_common_ancestor(const BlockIndex* a, const BlockIndex* b) noexcept;

// "<hash> (height <n>)": how logs and errors name a block.
std::string describe(const BlockIndex* index);

}  // namespace peerchain::chain
