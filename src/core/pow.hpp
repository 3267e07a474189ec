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

// The bits the block after `parent` must carry. `parent_height` and `parent_time` describe
// the parent; the rule is anchored at genesis (see Params).
std::uint32_t next_work_required(std::uint32_t parent_height, std::int64_t parent_time,
                                 const Params& p) noexcept;

// How many times harder than the network's easiest target `bits` is (1.0 at the limit).
double difficulty(std::uint32_t bits, const Params& p) noexcept;

}  // namespace peerchain::core
