// Building a payment: coin selection, fee, change and signatures.
//
// Given the wallet's coins (wallet/coins.hpp) and its secret keys, build_payment() makes
// one fully signed transaction that pays `amount` to a key, or says why it cannot. The
// result passes core::check_transaction, core::check_tx_inputs and
// core::check_tx_signatures against the coins it spends.
//
// Selection: only spendable coins are used: mature, not spent in the pool, and either
// confirmed or our own unconfirmed change (WalletCoin::from_self), and only coins whose
// key the wallet holds. Confirmed coins come first, then unconfirmed ones; within each
// group the largest first (fewest inputs, so the smallest fee), ties broken by outpoint.
// Coins are added until they cover the amount and the fee of the transaction they make.
//
// Fee: fee_rate base units per byte of the serialized signed transaction (signatures have
// a fixed size, so the size is known before signing). Change goes back to `change_key`
// unless it is dust, i.e. worth less than creating and later spending it would cost at the
// same fee rate (dust_threshold); then it is left to the fee.
//
// Order: deterministic, as BIP69 does it: inputs sorted by outpoint (txid bytes, then
// index), outputs by amount, then recipient. The change output's place therefore says
// nothing about which output it is, and the same coins and request give the same
// transaction apart from the signatures' random nonces.
//
// Refusals (ValidationResult with code kPolicy: the request is refused, nobody to punish):
//   amount-out-of-range    amount <= 0 or over kMaxMoney
//   fee-rate-out-of-range  fee_rate outside [kMinFeeRate, kMaxFeeRate]
//   data-too-large         data over Params::max_data_size
//   bad-address            the recipient key is not a point on the curve
//   insufficient-funds     the spendable coins do not cover amount + fee; the detail says
//                          how much is spendable and how much was needed
//   tx-too-large           covering the amount needs more inputs than a transaction may
//                          hold (Params::max_tx_size)
//   unknown-coin           a coin named in PaymentRequest::coins is not one of `coins`
//   coin-not-spendable     a coin named there is immature, an unconfirmed payment from
//                          someone else, or of a key the wallet does not hold
//
// Named coins (PaymentRequest::coins): only those are candidates, in the order above, and a
// coin a pool transaction already spends is used all the same. That is how a user tries a
// double spend on purpose: the pool, not the wallet, refuses it (txn-mempool-conflict).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <vector>

#include "core/amount.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "core/validation.hpp"
#include "crypto/schnorr.hpp"
#include "util/bytes.hpp"
#include "wallet/coins.hpp"

namespace peerchain::wallet {

// Base units per byte. The default is twice the pool's default minimum (mempool::Options).
inline constexpr core::Amount kDefaultFeeRate = 2;
inline constexpr core::Amount kMinFeeRate = 1;
// 10'000 per byte makes a one-input payment cost about 0.02 coin: anything above is a
// typing error rather than a wish.
inline constexpr core::Amount kMaxFeeRate = 10'000;

// The wallet's secret keys by their x-only public key.
using KeyMap = std::map<core::XOnlyKey, crypto::SecretKey>;

struct PaymentRequest {
    core::XOnlyKey to{};
    core::Amount amount = 0;
    core::Amount fee_rate = kDefaultFeeRate;
    util::Bytes data;
    // When not empty: spend only these coins (a double spend is the pool's to refuse).
    std::vector<core::OutPoint> coins;
};

struct Payment {
    core::Transaction tx;
    // The coin each input spends, in input order.
    std::vector<WalletCoin> spent;
    core::Amount fee = 0;
    // 0 when there is no change output.
    core::Amount change = 0;
};

// Serialized bytes of a transaction with `inputs` inputs, `outputs` outputs and `data_size`
// bytes of data (what Transaction::serialized_size gives once it is built).
std::size_t tx_size(std::size_t inputs, std::size_t outputs, std::size_t data_size) noexcept;

// The smallest change worth keeping at `fee_rate`: what its output and a later input
// spending it cost in fees.
core::Amount dust_threshold(core::Amount fee_rate) noexcept;

// Builds and signs the payment of `request` from `coins` with the keys in `keys`, change to
// `change_key`. On success fills *out and returns ok; otherwise returns one of the refusals
// above and leaves *out alone. Assumes `change_key` is one of `keys`.
core::ValidationResult build_payment(std::span<const WalletCoin> coins,
                                     const PaymentRequest& request,
                                     const core::XOnlyKey& change_key, const KeyMap& keys,
                                     const core::Params& params, Payment* out);

}  // namespace peerchain::wallet
