// The spending rules against the coins a transaction spends (core/tx_verify.hpp), with
// real BIP340 signatures: each rule has a case that breaks exactly it, including the one
// no chain of valid blocks can reach (input values beyond all money).
#include "core/tx_verify.hpp"

#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "core/sighash.hpp"
#include "crypto/schnorr.hpp"

namespace peerchain::core {
namespace {

const Params& regtest() { return params(Network::kRegtest); }

crypto::SecretKey key(std::uint8_t n) {
    std::array<std::uint8_t, 32> bytes{};
    bytes[0] = 0x22;
    bytes[31] = n;
    return *crypto::SecretKey::from_bytes(bytes);
}

Uint256 txid_of(std::uint8_t n) {
    std::array<std::uint8_t, 32> bytes{};
    bytes[0] = n;
    return Uint256(bytes);
}

// A transaction spending one coin per entry of `spent`, to one output of `out`, signed by
// `signer` for every input.
Transaction spend(const std::vector<Coin>& spent, Amount out, const crypto::SecretKey& signer) {
    Transaction tx;
    std::vector<TxOut> outs;
    for (std::size_t i = 0; i < spent.size(); ++i) {
        tx.inputs.push_back(TxIn{OutPoint{txid_of(static_cast<std::uint8_t>(i + 1)), 0}, {}});
        outs.push_back(spent[i].out);
    }
    tx.outputs.push_back(TxOut{out, signer.public_key()});
    const SignatureHasher hasher(tx, outs, regtest());
    for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        tx.inputs[i].signature = signer.sign(hasher.for_input(i));
    }
    return tx;
}

Coin coin(Amount amount, const crypto::SecretKey& owner, std::uint32_t height = 1,
          bool coinbase = false) {
    return Coin{TxOut{amount, owner.public_key()}, height, coinbase};
}

TEST(CheckTxInputs, ValidSpendGivesItsFee) {
    const auto k = key(1);
    const std::vector<Coin> spent = {coin(700, k), coin(300, k)};
    const Transaction tx = spend(spent, 900, k);
    Amount fee = -1;
    ASSERT_TRUE(check_tx_inputs(tx, spent, 10, regtest(), &fee));
    EXPECT_EQ(fee, 100);
    // All of it to the outputs: a zero fee is valid by consensus.
    const Transaction exact = spend(spent, 1000, k);
    EXPECT_TRUE(check_tx_inputs(exact, spent, 10, regtest(), &fee));
    EXPECT_EQ(fee, 0);
    EXPECT_TRUE(check_tx_inputs(exact, spent, 10, regtest(), nullptr));
}

TEST(CheckTxInputs, OutputsAboveInputs) {
    const auto k = key(1);
    const std::vector<Coin> spent = {coin(700, k)};
    const auto r = check_tx_inputs(spend(spent, 701, k), spent, 10, regtest(), nullptr);
    EXPECT_EQ(r.reason, "bad-txns-in-belowout");
    EXPECT_EQ(r.code, ValidationCode::kInvalid);
}

TEST(CheckTxInputs, CoinbaseMaturityAtItsBoundary) {
    const auto k = key(1);
    const std::uint32_t maturity = regtest().coinbase_maturity;
    const std::vector<Coin> spent = {coin(50, k, 5, true)};
    const Transaction tx = spend(spent, 50, k);
    const auto early = check_tx_inputs(tx, spent, 5 + maturity - 1, regtest(), nullptr);
    EXPECT_EQ(early.reason, "bad-txns-premature-spend-of-coinbase");
    EXPECT_TRUE(check_tx_inputs(tx, spent, 5 + maturity, regtest(), nullptr));
    // A coin that is not a coinbase output spends at once.
    const std::vector<Coin> plain = {coin(50, k, 5, false)};
    EXPECT_TRUE(check_tx_inputs(spend(plain, 50, k), plain, 6, regtest(), nullptr));
}

// No chain of valid blocks creates coins worth more than all money (every output and every
// coinbase is bounded by it, and the subsidies sum to less), so this rule is tested here.
TEST(CheckTxInputs, InputValuesOutOfRange) {
    const auto k = key(1);
    const std::vector<std::vector<Coin>> cases = {
        {coin(kMaxMoney + 1, k)},
        {coin(-1, k)},
        {coin(kMaxMoney, k), coin(1, k)},
        {coin(kMaxMoney, k), coin(kMaxMoney, k)},
        {coin(1, k), coin(std::numeric_limits<Amount>::max(), k)},
    };
    for (const auto& spent : cases) {
        const auto r = check_tx_inputs(spend(spent, 1, k), spent, 10, regtest(), nullptr);
        EXPECT_EQ(r.reason, "bad-txns-inputvalues-outofrange") << spent.size();
        EXPECT_EQ(r.code, ValidationCode::kInvalid);
    }
    // Exactly all money is in range.
    const std::vector<Coin> all = {coin(kMaxMoney - 5, k), coin(5, k)};
    EXPECT_TRUE(check_tx_inputs(spend(all, 1, k), all, 10, regtest(), nullptr));
}

TEST(CheckTxSignatures, ValidSignaturesPass) {
    const auto k = key(1);
    const std::vector<Coin> spent = {coin(700, k), coin(300, k), coin(5, k)};
    EXPECT_TRUE(check_tx_signatures(spend(spent, 900, k), spent, regtest()));
}

TEST(CheckTxSignatures, ABrokenSignatureIsNamedByItsInput) {
    const auto k = key(1);
    const std::vector<Coin> spent = {coin(700, k), coin(300, k), coin(5, k)};
    for (std::size_t bad = 0; bad < spent.size(); ++bad) {
        Transaction tx = spend(spent, 900, k);
        tx.inputs[bad].signature[10] ^= 0x01;
        const auto r = check_tx_signatures(tx, spent, regtest());
        EXPECT_EQ(r.reason, "bad-txns-signature");
        EXPECT_NE(r.detail.find("input " + std::to_string(bad)), std::string::npos) << r.detail;
    }
}

TEST(CheckTxSignatures, SignatureByAnotherKey) {
    const auto owner = key(1);
    const auto thief = key(2);
    const std::vector<Coin> spent = {coin(700, owner)};
    const auto r = check_tx_signatures(spend(spent, 600, thief), spent, regtest());
    EXPECT_EQ(r.reason, "bad-txns-signature");
}

TEST(CheckTxSignatures, SignatureCommitsToTheSpentAmountAndTheOutputs) {
    const auto k = key(1);
    const std::vector<Coin> spent = {coin(700, k)};
    const Transaction tx = spend(spent, 600, k);
    // The same outpoint claimed to hold another amount: the signed message differs.
    const std::vector<Coin> other_amount = {coin(701, k)};
    EXPECT_EQ(check_tx_signatures(tx, other_amount, regtest()).reason, "bad-txns-signature");
    Transaction changed = tx;
    changed.outputs[0].amount = 599;
    EXPECT_EQ(check_tx_signatures(changed, spent, regtest()).reason, "bad-txns-signature");
    Transaction with_data = tx;
    with_data.data = {1};
    EXPECT_EQ(check_tx_signatures(with_data, spent, regtest()).reason, "bad-txns-signature");
    // Signed for the other network: refused here.
    const SignatureHasher dev_hasher(tx, std::vector<TxOut>{spent[0].out}, params(Network::kDev));
    Transaction dev = tx;
    dev.inputs[0].signature = k.sign(dev_hasher.for_input(0));
    EXPECT_EQ(check_tx_signatures(dev, spent, regtest()).reason, "bad-txns-signature");
    EXPECT_TRUE(check_tx_signatures(dev, spent, params(Network::kDev)));
}

}  // namespace
}  // namespace peerchain::core
