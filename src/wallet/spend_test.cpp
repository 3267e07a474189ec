// Coin selection, fees, change and signing, checked against the consensus rules the pool
// and blocks apply (core/check.hpp, core/tx_verify.hpp) with real libsecp256k1 keys.
#include "wallet/spend.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/coin.hpp"
#include "core/tx_verify.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::wallet {
namespace {

const core::Params& regtest() { return core::params(core::Network::kRegtest); }

// Spends happen in a block at this height: every coin below is mature unless marked.
constexpr std::uint32_t kSpendHeight = 1'000;

crypto::SecretKey random_key() {
    for (;;) {
        std::array<std::uint8_t, 32> raw{};
        const auto bytes = testutil::random_bytes(32);
        std::copy(bytes.begin(), bytes.end(), raw.begin());
        if (auto k = crypto::SecretKey::from_bytes(raw)) return *k;
    }
}

core::Uint256 random_txid() {
    const auto bytes = testutil::random_bytes(32);
    std::array<std::uint8_t, 32> raw{};
    std::copy(bytes.begin(), bytes.end(), raw.begin());
    return core::Uint256(raw);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class SpendTest : public ::testing::Test {
  protected:
    SpendTest() : ours_(random_key()), change_(random_key()), payee_(random_key()) {
        keys_.emplace(ours_.public_key(), ours_);
        keys_.emplace(change_.public_key(), change_);
    }

    WalletCoin coin(core::Amount amount, std::optional<std::uint32_t> height = 10) const {
        WalletCoin c;
        c.outpoint =
            core::OutPoint{random_txid(), static_cast<std::uint32_t>(testutil::rng()() % 4)};
        c.out = core::TxOut{amount, ours_.public_key()};
        c.height = height;
        return c;
    }

    PaymentRequest pay(core::Amount amount, core::Amount fee_rate = kDefaultFeeRate) const {
        PaymentRequest r;
        r.to = payee_.public_key();
        r.amount = amount;
        r.fee_rate = fee_rate;
        return r;
    }

    core::ValidationResult build(const std::vector<WalletCoin>& coins, const PaymentRequest& r,
                                 Payment* out) const {
        return build_payment(coins, r, change_.public_key(), keys_, regtest(), out);
    }

    // What a node checks before the transaction enters its pool or a block; and that the
    // fee is the rate times the size.
    void expect_valid(const Payment& p, core::Amount fee_rate) const {
        ASSERT_TRUE(core::check_transaction(p.tx, regtest()));
        ASSERT_EQ(p.spent.size(), p.tx.inputs.size());
        std::vector<core::Coin> spent;
        for (std::size_t i = 0; i < p.spent.size(); ++i) {
            EXPECT_EQ(p.tx.inputs[i].prevout, p.spent[i].outpoint);
            spent.push_back(core::Coin{p.spent[i].out, p.spent[i].height.value_or(kSpendHeight),
                                       p.spent[i].coinbase});
        }
        core::Amount fee = -1;
        const auto inputs = core::check_tx_inputs(p.tx, spent, kSpendHeight, regtest(), &fee);
        ASSERT_TRUE(inputs) << inputs.to_string();
        EXPECT_EQ(fee, p.fee);
        const auto sigs = core::check_tx_signatures(p.tx, spent, regtest());
        ASSERT_TRUE(sigs) << sigs.to_string();
        const core::Amount size = static_cast<core::Amount>(p.tx.serialized_size());
        EXPECT_EQ(static_cast<std::size_t>(size),
                  tx_size(p.tx.inputs.size(), p.tx.outputs.size(), p.tx.data.size()));
        if (p.change > 0) {
            EXPECT_EQ(p.fee, fee_rate * size);
        } else {
            // Without change the fee is at least the rate, plus at most what dust change
            // would have been.
            EXPECT_GE(p.fee, fee_rate * size);
            EXPECT_LT(p.fee, fee_rate * size + dust_threshold(fee_rate) +
                                 fee_rate * static_cast<core::Amount>(core::kTxOutSize));
        }
    }

    core::Amount paid_to(const Payment& p, const crypto::SecretKey& key) const {
        core::Amount sum = 0;
        for (const auto& o : p.tx.outputs) {
            if (o.recipient == key.public_key()) sum += o.amount;
        }
        return sum;
    }

    crypto::SecretKey ours_;
    crypto::SecretKey change_;
    crypto::SecretKey payee_;
    KeyMap keys_;
};

TEST_F(SpendTest, ExactAmountNeedsNoChange) {
    const core::Amount amount = 3 * core::kCoin;
    const core::Amount fee = kDefaultFeeRate * static_cast<core::Amount>(tx_size(1, 1, 0));
    const std::vector<WalletCoin> coins = {coin(amount + fee)};
    Payment p;
    ASSERT_TRUE(build(coins, pay(amount), &p));
    expect_valid(p, kDefaultFeeRate);
    ASSERT_EQ(p.tx.outputs.size(), 1u);
    EXPECT_EQ(p.tx.outputs[0], (core::TxOut{amount, payee_.public_key()}));
    EXPECT_EQ(p.change, 0);
    EXPECT_EQ(p.fee, fee);
}

TEST_F(SpendTest, ChangeGoesBackToTheChangeKey) {
    const std::vector<WalletCoin> coins = {coin(10 * core::kCoin)};
    Payment p;
    ASSERT_TRUE(build(coins, pay(core::kCoin), &p));
    expect_valid(p, kDefaultFeeRate);
    ASSERT_EQ(p.tx.outputs.size(), 2u);
    EXPECT_EQ(paid_to(p, payee_), core::kCoin);
    EXPECT_EQ(paid_to(p, change_), p.change);
    EXPECT_EQ(p.change, 9 * core::kCoin - p.fee);
    EXPECT_EQ(p.fee, kDefaultFeeRate * static_cast<core::Amount>(tx_size(1, 2, 0)));
}

TEST_F(SpendTest, DustChangeIsLeftToTheFee) {
    const core::Amount amount = core::kCoin;
    const core::Amount rate = 5;
    const core::Amount fee_two = rate * static_cast<core::Amount>(tx_size(1, 2, 0));
    {
        // One unit short of change worth keeping.
        const std::vector<WalletCoin> coins = {coin(amount + fee_two + dust_threshold(rate) - 1)};
        Payment p;
        ASSERT_TRUE(build(coins, pay(amount, rate), &p));
        expect_valid(p, rate);
        EXPECT_EQ(p.tx.outputs.size(), 1u);
        EXPECT_EQ(p.change, 0);
        EXPECT_EQ(p.fee, coins[0].out.amount - amount);
    }
    {
        // Exactly the threshold: kept.
        const std::vector<WalletCoin> coins = {coin(amount + fee_two + dust_threshold(rate))};
        Payment p;
        ASSERT_TRUE(build(coins, pay(amount, rate), &p));
        expect_valid(p, rate);
        EXPECT_EQ(p.tx.outputs.size(), 2u);
        EXPECT_EQ(p.change, dust_threshold(rate));
        EXPECT_EQ(p.fee, fee_two);
    }
}

TEST_F(SpendTest, InsufficientFundsSaysWhatIsSpendable) {
    const std::vector<WalletCoin> coins = {coin(core::kCoin), coin(core::kCoin / 2)};
    Payment p;
    const auto r = build(coins, pay(core::kCoin + core::kCoin / 2), &p);
    EXPECT_EQ(r.code, core::ValidationCode::kPolicy);
    EXPECT_EQ(r.reason, "insufficient-funds");
    EXPECT_TRUE(contains(r.detail, "spendable 1.50000000")) << r.detail;
    EXPECT_TRUE(contains(r.detail, "needed 1.5000")) << r.detail;
    EXPECT_TRUE(p.tx.inputs.empty());

    const auto none = build({}, pay(1), &p);
    EXPECT_EQ(none.reason, "insufficient-funds");
    EXPECT_TRUE(contains(none.detail, "spendable 0.00000000")) << none.detail;
}

TEST_F(SpendTest, ImmaturePoolSpentAndForeignUnconfirmedCoinsAreSkipped) {
    WalletCoin immature = coin(50 * core::kCoin);
    immature.coinbase = true;
    immature.mature = false;
    WalletCoin spent = coin(40 * core::kCoin);
    spent.spent_in_pool = true;
    WalletCoin incoming = coin(30 * core::kCoin, std::nullopt);  // someone else's, unconfirmed
    WalletCoin not_ours = coin(20 * core::kCoin);
    not_ours.out.recipient = payee_.public_key();
    const WalletCoin small = coin(core::kCoin);
    const std::vector<WalletCoin> coins = {immature, spent, incoming, not_ours, small};

    Payment p;
    const auto r = build(coins, pay(2 * core::kCoin), &p);
    EXPECT_EQ(r.reason, "insufficient-funds");
    EXPECT_TRUE(contains(r.detail, "spendable 1.00000000")) << r.detail;
    EXPECT_TRUE(contains(r.detail, "50.00000000 immature")) << r.detail;
    EXPECT_TRUE(contains(r.detail, "30.00000000 pending")) << r.detail;

    ASSERT_TRUE(build(coins, pay(core::kCoin / 2), &p));
    expect_valid(p, kDefaultFeeRate);
    ASSERT_EQ(p.spent.size(), 1u);
    EXPECT_EQ(p.spent[0], small);
}

TEST_F(SpendTest, ConfirmedCoinsFirstThenOwnUnconfirmedChange) {
    WalletCoin change = coin(5 * core::kCoin, std::nullopt);
    change.from_self = true;
    const WalletCoin confirmed = coin(core::kCoin);
    const std::vector<WalletCoin> coins = {change, confirmed};

    Payment p;
    ASSERT_TRUE(build(coins, pay(core::kCoin / 2), &p));
    expect_valid(p, kDefaultFeeRate);
    ASSERT_EQ(p.spent.size(), 1u);
    EXPECT_EQ(p.spent[0], confirmed);

    ASSERT_TRUE(build(coins, pay(3 * core::kCoin), &p));
    expect_valid(p, kDefaultFeeRate);
    EXPECT_EQ(p.spent.size(), 2u);
}

TEST_F(SpendTest, LargestCoinsFirst) {
    const std::vector<WalletCoin> coins = {coin(core::kCoin), coin(10 * core::kCoin),
                                           coin(5 * core::kCoin)};
    Payment p;
    ASSERT_TRUE(build(coins, pay(3 * core::kCoin), &p));
    ASSERT_EQ(p.spent.size(), 1u);
    EXPECT_EQ(p.spent[0], coins[1]);
    ASSERT_TRUE(build(coins, pay(12 * core::kCoin), &p));
    expect_valid(p, kDefaultFeeRate);
    ASSERT_EQ(p.spent.size(), 2u);
    EXPECT_TRUE(std::find(p.spent.begin(), p.spent.end(), coins[0]) == p.spent.end());
}

TEST_F(SpendTest, FeeIsTheRateTimesTheSignedSize) {
    std::vector<WalletCoin> coins;
    for (int i = 0; i < 6; ++i) coins.push_back(coin(core::kCoin));
    for (core::Amount rate : {core::Amount{1}, core::Amount{2}, core::Amount{7}, kMaxFeeRate}) {
        for (std::size_t data_size : {std::size_t{0}, std::size_t{1}, std::size_t{300}}) {
            PaymentRequest r = pay(4 * core::kCoin + 1, rate);
            r.data = testutil::random_bytes(data_size);
            Payment p;
            ASSERT_TRUE(build(coins, r, &p)) << rate;
            expect_valid(p, rate);
            EXPECT_EQ(p.spent.size(), 5u);
            EXPECT_EQ(p.fee, rate * static_cast<core::Amount>(p.tx.encode().size()));
        }
    }
}

TEST_F(SpendTest, DataPayloadIsCarriedUpToTheLimit) {
    const std::vector<WalletCoin> coins = {coin(10 * core::kCoin)};
    PaymentRequest r = pay(core::kCoin);
    r.data = testutil::random_bytes(regtest().max_data_size);
    Payment p;
    ASSERT_TRUE(build(coins, r, &p));
    expect_valid(p, kDefaultFeeRate);
    EXPECT_EQ(p.tx.data, r.data);

    r.data.push_back(0);
    const auto too_large = build(coins, r, &p);
    EXPECT_EQ(too_large.reason, "data-too-large");
}

TEST_F(SpendTest, RefusesBadRequests) {
    const std::vector<WalletCoin> coins = {coin(10 * core::kCoin)};
    Payment p;
    for (core::Amount amount : {core::Amount{0}, core::Amount{-1}, core::kMaxMoney + 1}) {
        const auto r = build(coins, pay(amount), &p);
        EXPECT_EQ(r.reason, "amount-out-of-range") << amount;
        EXPECT_EQ(r.code, core::ValidationCode::kPolicy);
    }
    for (core::Amount rate : {core::Amount{0}, core::Amount{-3}, kMaxFeeRate + 1}) {
        EXPECT_EQ(build(coins, pay(core::kCoin, rate), &p).reason, "fee-rate-out-of-range");
    }
    PaymentRequest off_curve = pay(core::kCoin);
    off_curve.to.fill(0xff);  // above the field size: no point has this x
    EXPECT_EQ(build(coins, off_curve, &p).reason, "bad-address");
    EXPECT_TRUE(p.tx.inputs.empty());
}

TEST_F(SpendTest, InputsAndOutputsAreSorted) {
    std::vector<WalletCoin> coins;
    for (int i = 0; i < 8; ++i) coins.push_back(coin(core::kCoin));
    Payment p;
    ASSERT_TRUE(build(coins, pay(5 * core::kCoin), &p));
    expect_valid(p, kDefaultFeeRate);
    ASSERT_EQ(p.tx.inputs.size(), 6u);
    EXPECT_TRUE(std::is_sorted(
        p.tx.inputs.begin(), p.tx.inputs.end(),
        [](const core::TxIn& a, const core::TxIn& b) { return a.prevout < b.prevout; }));
    ASSERT_EQ(p.tx.outputs.size(), 2u);
    EXPECT_LE(p.tx.outputs[0].amount, p.tx.outputs[1].amount);
}

TEST_F(SpendTest, TooManyInputsIsRefused) {
    // 1'000 units a coin: at rate 1 each input costs 100 of them, and a transaction holds
    // fewer than 1'000 inputs.
    std::vector<WalletCoin> coins;
    for (int i = 0; i < 1'100; ++i) coins.push_back(coin(1'000));
    Payment p;
    const auto r = build(coins, pay(950'000, 1), &p);
    EXPECT_EQ(r.reason, "tx-too-large") << r.to_string();
    ASSERT_TRUE(build(coins, pay(100'000, 1), &p));
    expect_valid(p, 1);
}

}  // namespace
}  // namespace peerchain::wallet

namespace peerchain::wallet {
namespace {

// `peerchain wallet send --coin`: only the named coins are spent, even one a pool
// transaction already spends, so that the pool refuses the double spend (issue 8).
TEST_F(SpendTest, NamedCoinsAreTheOnlyOnesSpentEvenWhenSpentInThePool) {
    const WalletCoin big = coin(50 * core::kCoin);
    WalletCoin spent = coin(10 * core::kCoin);
    spent.spent_in_pool = true;
    const std::vector<WalletCoin> coins = {big, spent};

    PaymentRequest r = pay(2 * core::kCoin);
    r.coins = {spent.outpoint};
    Payment p;
    ASSERT_TRUE(build(coins, r, &p));
    expect_valid(p, kDefaultFeeRate);
    ASSERT_EQ(p.spent.size(), 1u);
    EXPECT_EQ(p.spent[0], spent);

    r.amount = 20 * core::kCoin;  // more than the named coin holds; the other is not taken
    EXPECT_EQ(build(coins, r, &p).reason, "insufficient-funds");
}

TEST_F(SpendTest, NamedCoinsMustBeTheWalletsAndSpendable) {
    WalletCoin immature = coin(50 * core::kCoin);
    immature.coinbase = true;
    immature.mature = false;
    const WalletCoin incoming = coin(30 * core::kCoin, std::nullopt);
    const std::vector<WalletCoin> coins = {immature, incoming};
    Payment p;
    PaymentRequest r = pay(core::kCoin);
    r.coins = {core::OutPoint{random_txid(), 0}};
    EXPECT_EQ(build(coins, r, &p).reason, "unknown-coin");
    r.coins = {immature.outpoint};
    EXPECT_EQ(build(coins, r, &p).reason, "coin-not-spendable");
    r.coins = {incoming.outpoint};
    EXPECT_EQ(build(coins, r, &p).reason, "coin-not-spendable");
}

}  // namespace
}  // namespace peerchain::wallet
