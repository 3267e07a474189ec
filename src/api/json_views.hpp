// JSON views of core types, the only place the API decides how a block, transaction,
// coin or pool entry looks to a client. Names follow the seeds (`index`, `hash`,
// `previousHash`, `timestamp`, `data`) next to the header fields. Hashes are hex in display
// order; amounts are integers in base units; keys are hex next to their `address`
// (bech32m, core/address.hpp); `data` is the payload as UTF-8 text (invalid sequences
// replaced by U+FFFD) and `dataHex` the exact bytes.
//
// Thread-safety: pure functions.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <vector>

#include "api/node_api.hpp"
#include "chain/chainstate.hpp"
#include "core/block.hpp"
#include "core/coin.hpp"
#include "core/params.hpp"
#include "mempool/mempool.hpp"

namespace peerchain::api {

struct BlockPlacement {
    std::uint32_t height = 0;
    std::int64_t confirmations = 0;  // 0: not in the active chain
};

// A transaction as blocks list it: txid, inputs (the outpoint each spends and its
// signature), outputs (amount, recipient key, address), data, size; a coinbase has
// `coinbase: true` and `fee: 0`.
boost::json::object transaction_json(const core::Transaction& tx, const core::Params& params);
// transaction_json plus `hex` (the serialized transaction) and, when `spent` holds the
// outputs the inputs spent (in input order), each input's `amount`, `recipient` and
// `address`, `inputTotal` and `fee`.
boost::json::object transaction_detail_json(const core::Transaction& tx, const core::Params& params,
                                            const std::vector<core::TxOut>* spent);
boost::json::object block_json(const core::Block& block, const BlockPlacement& placement,
                               const core::Params& params);

// Base units per byte, rounded down (0 for an empty size).
core::Amount fee_rate(core::Amount fee, std::size_t size);

// {txid, fee, size, feeRate, time, ancestors, descendants}
boost::json::object mempool_entry_json(const mempool::Entry& entry);
// {txid, index, amount, height, coinbase, mature}: mature when a transaction in the next
// block (at tip_height + 1) may spend it.
boost::json::object coin_json(const core::OutPoint& outpoint, const core::Coin& coin,
                              std::uint32_t tip_height, const core::Params& params);
// {txid, height, blockHash, confirmations, received, sent}
boost::json::object address_tx_json(const chain::AddressTx& tx, std::uint32_t tip_height);
// {txid, index, amount, address, height (null while unconfirmed), coinbase, mature,
// spentInMempool}
boost::json::object wallet_coin_json(const WalletCoinView& coin, const core::Params& params);

// Payload bytes as JSON-safe UTF-8 text.
std::string payload_text(const util::Bytes& data);
// "1f00ffff"
std::string bits_hex(std::uint32_t bits);

}  // namespace peerchain::api
