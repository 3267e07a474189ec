// The spending rules a transaction meets against the coins it spends, shared by block
// validation (chain/chainstate_activation.cpp) and the memory pool (mempool/mempool.cpp),
// so that a transaction the pool accepts is one a block may carry.
//
// Finding the coins (bad-txns-inputs-missingorspent) is the caller's part: the chain reads
// its UTXO set, the pool also its own unconfirmed outputs.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>

#include "core/amount.hpp"
#include "core/coin.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "core/validation.hpp"

namespace peerchain::core {

// Checks a non-coinbase transaction that passed check_transaction() against `spent`, the
// coin each input spends in input order, in a block at `spend_height`:
// bad-txns-premature-spend-of-coinbase, bad-txns-inputvalues-outofrange,
// bad-txns-in-belowout. On success *fee is the inputs minus the outputs.
ValidationResult check_tx_inputs(const Transaction& tx, std::span<const Coin> spent,
                                 std::uint32_t spend_height, const Params& p, Amount* fee);

// Checks every input's signature, one after another (block validation spreads them over
// threads instead): bad-txns-signature naming the first input that fails. `spent` as above.
ValidationResult check_tx_signatures(const Transaction& tx, std::span<const Coin> spent,
                                     const Params& p);

}  // namespace peerchain::core
