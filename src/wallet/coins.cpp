#include "wallet/coins.hpp"

#include <algorithm>

namespace peerchain::wallet {

bool is_mature(std::uint32_t coin_height, bool coinbase, std::uint32_t spend_height,
               const core::Params& params) noexcept {
    if (!coinbase) return true;
    return spend_height >= coin_height && spend_height - coin_height >= params.coinbase_maturity;
}

namespace {

void add_clamped(core::Amount& sum, core::Amount value) noexcept {
    if (!core::money_range(value)) return;
    sum = std::min(core::kMaxMoney, sum + value);
}

}  // namespace

Balance balance(std::span<const WalletCoin> coins) noexcept {
    Balance b;
    for (const WalletCoin& c : coins) {
        if (c.spent_in_pool) continue;
        if (!c.confirmed()) {
            add_clamped(b.pending, c.out.amount);
        } else if (c.coinbase && !c.mature) {
            add_clamped(b.immature, c.out.amount);
        } else {
            add_clamped(b.confirmed, c.out.amount);
        }
    }
    return b;
}

}  // namespace peerchain::wallet
