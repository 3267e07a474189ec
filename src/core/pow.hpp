// Proof of work: targets, work and the difficulty rule.
#pragma once

#include <cstdint>
#include <optional>

#include "core/arith_uint256.hpp"
#include "core/params.hpp"

namespace peerchain::core {

// The target `bits` encodes, or nullopt when it is negative, zero, overflows, or is easier
// than the network allows.
std::optional<ArithUint256> decode_target(std::uint32_t bits, const Params& p) noexcept;

// True when `hash` (a block id) meets the target of `bits`.
bool check_proof_of_work(const Uint256& hash, std::uint32_t bits, const Params& p) noexcept;

// Expected number of hashes to meet the target: 2^256 / (target + 1). Zero for bits that
// do not decode.
ArithUint256 block_work(std::uint32_t bits) noexcept;

// The bits the block after `parent` must carry. `parent_bits` and `parent_time` describe
// the parent, `grandparent_time` its parent (for a parent that is genesis, pass
// parent_time - target_spacing). The rule is ASERT anchored at the parent: the target is
// the parent's, times 2^((solve_time - target_spacing) / half_life), where solve_time is
// parent_time - grandparent_time. Over a run of blocks the factors multiply to
// 2^((elapsed - n * spacing) / half_life), the absolute schedule of aserti3-2d, without
// tying difficulty to how long ago genesis was.
std::uint32_t next_work_required(std::uint32_t parent_bits, std::int64_t parent_time,
                                 std::int64_t grandparent_time, const Params& p) noexcept;

// How many times harder than the network's easiest target `bits` is (1.0 at the limit).
double difficulty(std::uint32_t bits, const Params& p) noexcept;

}  // namespace peerchain::core
