#include "wallet/amount_text.hpp"

#include <cstdint>

namespace peerchain::wallet {

namespace {

constexpr int kDecimals = 8;

}  // namespace

std::string format_coins(core::Amount amount) {
    // Negate in unsigned arithmetic: -INT64_MIN does not fit an int64.
    const bool negative = amount < 0;
    const std::uint64_t magnitude =
        negative ? ~static_cast<std::uint64_t>(amount) + 1 : static_cast<std::uint64_t>(amount);
    const auto coin = static_cast<std::uint64_t>(core::kCoin);
    std::string fraction = std::to_string(magnitude % coin);
    fraction.insert(0, kDecimals - fraction.size(), '0');
    return (negative ? "-" : "") + std::to_string(magnitude / coin) + "." + fraction;
}

util::Result<core::Amount> parse_coins(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return util::Unexpected(
            util::Errc::kInvalidArgument,
            "'" + std::string(text.substr(0, 40)) + "' is not an amount: " + why);
    };
    if (text.empty()) return bad("empty");
    const std::size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view frac =
        dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty()) return bad("write a digit before the point (0.5, not .5)");
    if (dot != std::string_view::npos && frac.empty()) return bad("a digit must follow the point");
    if (frac.size() > kDecimals) return bad("at most 8 decimals (1 base unit is 0.00000001)");
    auto all_digits = [](std::string_view s) {
        for (char c : s) {
            if (c < '0' || c > '9') return false;
        }
        return true;
    };
    if (!all_digits(whole) || !all_digits(frac)) {
        return bad("only digits and one '.' (whole coins, e.g. 10 or 0.5)");
    }
    // Leading zeros do not count against the bound; more significant digits than
    // kMaxMoney has coins cannot be in range (and could overflow).
    std::size_t first = whole.find_first_not_of('0');
    if (first != std::string_view::npos && whole.size() - first > 9) {
        return bad("more than the 21000000 coins that can exist");
    }
    std::int64_t coins = 0;
    for (char c : whole) coins = coins * 10 + (c - '0');
    std::int64_t units = 0;
    for (int i = 0; i < kDecimals; ++i) {
        units = units * 10 + (static_cast<std::size_t>(i) < frac.size() ? frac[i] - '0' : 0);
    }
    if (coins > core::kMaxMoney / core::kCoin) {
        return bad("more than the 21000000 coins that can exist");
    }
    const core::Amount amount = coins * core::kCoin + units;
    if (!core::money_range(amount)) return bad("more than the 21000000 coins that can exist");
    return amount;
}

}  // namespace peerchain::wallet
