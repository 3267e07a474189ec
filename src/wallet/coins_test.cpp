#include "wallet/coins.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace peerchain::wallet {
namespace {

const core::Params& regtest() { return core::params(core::Network::kRegtest); }

WalletCoin coin(core::Amount amount, std::optional<std::uint32_t> height, bool coinbase = false,
                bool mature = true, bool spent_in_pool = false) {
    WalletCoin c;
    c.out.amount = amount;
    c.height = height;
    c.coinbase = coinbase;
    c.mature = mature;
    c.spent_in_pool = spent_in_pool;
    return c;
}

TEST(Coins, MaturityFollowsTheConsensusRule) {
    const auto m = regtest().coinbase_maturity;
    EXPECT_TRUE(is_mature(5, false, 6, regtest()));
    EXPECT_FALSE(is_mature(5, true, 5 + m - 1, regtest()));
    EXPECT_TRUE(is_mature(5, true, 5 + m, regtest()));
    EXPECT_FALSE(is_mature(10, true, 9, regtest()));  // a spend height below the coin's
}

TEST(Coins, BalanceSplitsConfirmedPendingAndImmature) {
    const std::vector<WalletCoin> coins = {
        coin(100, 3),                           // confirmed
        coin(5'000, 4, true, true),             // mature coinbase: confirmed
        coin(7'000, 150, true, false),          // immature coinbase
        coin(30, std::nullopt),                 // pending (in the pool)
        coin(1'000'000, 2, false, true, true),  // spent in the pool: on its way out
        coin(40, std::nullopt, false, true, true),
    };
    const Balance b = balance(coins);
    EXPECT_EQ(b.confirmed, 5'100);
    EXPECT_EQ(b.pending, 30);
    EXPECT_EQ(b.immature, 7'000);
    EXPECT_EQ(balance(std::vector<WalletCoin>{}), Balance{});
}

TEST(Coins, BalanceClampsAtMaxMoneyAndSkipsOutOfRangeAmounts) {
    const std::vector<WalletCoin> coins = {coin(core::kMaxMoney, 1), coin(core::kMaxMoney, 2),
                                           coin(-5, 3), coin(core::kMaxMoney + 1, 4)};
    EXPECT_EQ(balance(coins).confirmed, core::kMaxMoney);
}

}  // namespace
}  // namespace peerchain::wallet
