// Amounts as people type and read them: whole coins with up to 8 decimals ("10", "0.5",
// "0.00000001"), converted to and from base units with integer arithmetic only, so that
// no amount is ever rounded.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/amount.hpp"
#include "util/result.hpp"

namespace peerchain::wallet {

// "12.50000000": all eight decimals, a leading '-' for a negative amount.
std::string format_coins(core::Amount amount);

// Parses digits with an optional '.' followed by 1 to 8 digits ("10", "0.5", "21000000").
// No sign, exponent, spaces or thousands separators. Fails with kInvalidArgument, naming
// the problem, on any other text or an amount above kMaxMoney. Zero parses; whether it is
// allowed is the caller's decision.
util::Result<core::Amount> parse_coins(std::string_view text);

}  // namespace peerchain::wallet
