// What the transaction, address, mempool and wallet routes read from a client, checked
// strictly: path parameters, the body of POST /transactions and of POST /wallet/send; and
// how a refused transaction maps to an HTTP answer. docs/API.md lists every error code
// these produce.
//
// Each parser returns the value, or the 4xx Response to send instead (parsed.hpp, which
// also has ?limit= and the JSON field checks). Amounts lie in the money range.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include "api/node_api.hpp"
#include "api/parsed.hpp"
#include "api/request.hpp"
#include "api/response.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "core/validation.hpp"

namespace peerchain::api {

// Bounds of the answers.
inline constexpr std::size_t kDefaultAddressTxs = 50;
inline constexpr std::size_t kMaxAddressTxs = 1000;
inline constexpr std::size_t kMaxAddressUtxos = 1000;
inline constexpr std::size_t kDefaultMempoolEntries = 100;
inline constexpr std::size_t kMaxMempoolEntries = 1000;
// Base units per byte a client may ask the wallet to pay (the wallet's own bound: about
// 0.02 coin for a one-input payment; anything above is a typing error).
inline constexpr core::Amount kMaxFeeRate = 10'000;

// A txid as 64 hex digits; 400 bad-request otherwise.
Parsed<core::Uint256> parse_txid(std::string_view text);

// An address of this network; 400 bad-address with the reason (another network's prefix,
// a bad checksum, ...) otherwise.
Parsed<core::XOnlyKey> parse_address(std::string_view text, const core::Params& params);

// The largest body POST /transactions accepts: a transaction of max_tx_size bytes in hex,
// with room for the JSON around it.
std::size_t max_submit_body(const core::Params& params);

// The body of POST /transactions, {"hex": "<serialized transaction>"}: 413 body-too-large
// beyond max_submit_body; 400 bad-json, bad-request (other fields, hex not a string),
// bad-hex (not an even number of hex digits), tx-too-large, bad-tx-encoding (the bytes are
// not exactly one transaction).
Parsed<core::Transaction> parse_submit_body(const Request& req, const core::Params& params);

// Coins a client may name in POST /wallet/send ("coins").
inline constexpr std::size_t kMaxSendCoins = 100;

// "<txid in 64 hex digits>:<output index>", e.g. for a coin named on the command line;
// nullopt otherwise.
std::optional<core::OutPoint> parse_outpoint(std::string_view text);

// The body of POST /wallet/send, {"to", "amount", "data"?, "feeRate"?, "coins"?}, with the
// wallet's reason tokens: 400 bad-json, bad-request (a missing or unknown field, "coins"
// not an array of 1 to kMaxSendCoins "txid:index" strings), bad-address (not
// a string, or not an address of this network), amount-out-of-range (not a JSON integer
// in [1, kMaxMoney]), fee-rate-out-of-range (not a JSON integer in [1, kMaxFeeRate]),
// data-too-large (not a string, or over Params::max_data_size bytes).
Parsed<SendRequest> parse_send_request(const Request& req, const core::Params& params);

// The HTTP status for a refused transaction or payment: 400 for kInvalid, kMissingPrev,
// kTimeFuture and the wallet's request errors (bad-address, amount-out-of-range,
// fee-rate-out-of-range, data-too-large), 409 for kDuplicate and txn-mempool-conflict, 422
// for other policy refusals (min-fee-not-met, mempool-full, insufficient-funds, ...), 503
// for shutting-down and unavailable, 500 for other internal failures.
unsigned reject_status(const core::ValidationResult& why);
// {"error": {"code": <why.reason>, "message": <why.detail or the reason>}} with that
// status (a reason that is not a valid error code becomes "rejected").
Response reject_response(const core::ValidationResult& why);

}  // namespace peerchain::api
