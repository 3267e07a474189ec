// Amount: a signed 64-bit count of base units (1 coin = 10^8). Never a float.
#pragma once

#include <cstdint>

namespace peerchain::core {

using Amount = std::int64_t;

inline constexpr Amount kCoin = 100'000'000;
// No amount, sum of amounts or balance may exceed this (the subsidy schedule never
// reaches it).
inline constexpr Amount kMaxMoney = 21'000'000 * kCoin;

constexpr bool money_range(Amount v) noexcept { return v >= 0 && v <= kMaxMoney; }

}  // namespace peerchain::core
