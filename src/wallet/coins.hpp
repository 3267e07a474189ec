// The wallet's view of its coins, and its balance.
//
// The wallet does not read the chain or the pool: the node gathers the outputs that pay a
// wallet key (from the active chain's coins and from pool transactions), marks each one
// with the facts below and hands the list in. Everything here is pure arithmetic over that
// list, so that the same list always gives the same balance and the same payment.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/amount.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"

namespace peerchain::wallet {

// One output that pays a key of the wallet, confirmed or in the pool.
struct WalletCoin {
    core::OutPoint outpoint;
    core::TxOut out;
    // The height of the block that made it; nullopt while its transaction is in the pool.
    std::optional<std::uint32_t> height;
    bool coinbase = false;
    // Spendable now as far as maturity goes (see is_mature); always true for pool outputs.
    bool mature = true;
    // A pool transaction already spends it.
    bool spent_in_pool = false;
    // Unconfirmed only: made by a pool transaction whose inputs were all the wallet's own
    // (our change, or a payment to ourselves). Such outputs may be spent before they
    // confirm; an unconfirmed payment from someone else is not spent until it confirms,
    // since its sender could still replace or double-spend it.
    bool from_self = false;

    bool confirmed() const noexcept { return height.has_value(); }

    friend bool operator==(const WalletCoin&, const WalletCoin&) = default;
};

// Whether a coin made at `coin_height` may be spent by a transaction in a block at
// `spend_height` (the active tip's height plus one): always for ordinary outputs, after
// Params::coinbase_maturity blocks for a coinbase (the rule of core::check_tx_inputs).
bool is_mature(std::uint32_t coin_height, bool coinbase, std::uint32_t spend_height,
               const core::Params& params) noexcept;

// In base units; the meaning of each part is that of api::WalletBalance:
//   confirmed: confirmed, mature coins not spent by a pool transaction;
//   pending:   unconfirmed coins (pool outputs) not spent in the pool: incoming payments
//              and our own change;
//   immature:  confirmed coinbase outputs not yet mature.
// A coin spent in the pool counts nowhere: it is on its way out.
struct Balance {
    core::Amount confirmed = 0;
    core::Amount pending = 0;
    core::Amount immature = 0;

    friend bool operator==(const Balance&, const Balance&) = default;
};

// Sums `coins` into a Balance. Assumes the amounts are in range (money_range each, as
// consensus guarantees for outputs of valid transactions); a sum never exceeds kMaxMoney
// for coins of one chain, and is clamped there if a caller hands in more.
Balance balance(std::span<const WalletCoin> coins) noexcept;

}  // namespace peerchain::wallet
