#include "api/tx_requests.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <string>

#include "api/errors.hpp"
#include "core/address.hpp"
#include "core/amount.hpp"
#include "util/bytes.hpp"

namespace peerchain::api {

namespace json = boost::json;

Parsed<core::Uint256> parse_txid(std::string_view text) {
    if (text.size() != 2 * core::Uint256::kSize) {
        return bad_request("a transaction id is 64 hex digits");
    }
    auto txid = core::Uint256::from_hex(text);
    if (!txid) return bad_request("a transaction id is 64 hex digits");
    return *txid;
}

Parsed<core::XOnlyKey> parse_address(std::string_view text, const core::Params& params) {
    auto key = core::decode_address(text, params);
    if (!key) return error_response(400, "bad-address", key.error().message);
    return *key;
}

std::size_t max_submit_body(const core::Params& params) {
    // {"hex": "..."} with spaces or newlines a client may add.
    return 2 * params.max_tx_size + 1024;
}

Parsed<core::Transaction> parse_submit_body(const Request& req, const core::Params& params) {
    if (req.body.size() > max_submit_body(params)) return body_too_large(max_submit_body(params));
    auto body = req.json_body();
    if (!body) return bad_json(body.error());
    const json::object& obj = body->as_object();
    if (auto r = unknown_field(obj, {"hex"})) return std::move(*r);
    const json::value* hex = obj.if_contains("hex");
    if (hex == nullptr || !hex->is_string()) {
        return bad_request("expected {\"hex\": \"<serialized transaction>\"}");
    }
    const std::string_view text = hex->get_string();
    if (text.size() > 2 * params.max_tx_size) {
        return error_response(400, "tx-too-large",
                              "the transaction is " + std::to_string(text.size() / 2) +
                                  " bytes; at most " + std::to_string(params.max_tx_size));
    }
    auto bytes = util::from_hex(text);
    if (!bytes) {
        return error_response(400, "bad-hex", "'hex' must be an even number of hex digits");
    }
    auto tx = core::decode_transaction(*bytes);
    if (!tx) {
        return error_response(400, "bad-tx-encoding",
                              "the bytes are not one transaction: " + tx.error().message);
    }
    return std::move(*tx);
}

Parsed<SendRequest> parse_send_request(const Request& req, const core::Params& params) {
    auto body = req.json_body();
    if (!body) return bad_json(body.error());
    const json::object& obj = body->as_object();
    if (auto r = unknown_field(obj, {"to", "amount", "data", "feeRate", "coins"})) {
        return std::move(*r);
    }
    SendRequest out;

    const json::value* to = obj.if_contains("to");
    if (to == nullptr) return bad_request("missing 'to': the address to pay");
    if (!to->is_string()) {
        return error_response(400, "bad-address", "'to' must be a string, not " + json_kind(*to));
    }
    auto key = parse_address(to->get_string(), params);
    if (!key) return std::move(key.error());
    out.to = std::string(to->get_string());

    const json::value* amount = obj.if_contains("amount");
    if (amount == nullptr) return bad_request("missing 'amount': base units to pay");
    const auto units = json_integer(*amount);
    if (!units) {
        return error_response(
            400, "amount-out-of-range",
            "'amount' must be a JSON integer of base units, not " + json_kind(*amount));
    }
    if (*units <= 0 || !core::money_range(*units)) {
        return error_response(
            400, "amount-out-of-range",
            "'amount' must be between 1 and " + std::to_string(core::kMaxMoney) + " base units");
    }
    out.amount = *units;

    if (const json::value* rate = obj.if_contains("feeRate")) {
        const auto r = json_integer(*rate);
        if (!r || *r < 1 || *r > kMaxFeeRate) {
            return error_response(400, "fee-rate-out-of-range",
                                  "'feeRate' must be a JSON integer from 1 to " +
                                      std::to_string(kMaxFeeRate) + " (base units per byte), not " +
                                      (r ? std::to_string(*r) : json_kind(*rate)));
        }
        out.fee_rate = *r;
    }

    if (const json::value* data = obj.if_contains("data")) {
        if (!data->is_string()) {
            return error_response(400, "data-too-large",
                                  "'data' must be a string, not " + json_kind(*data));
        }
        const std::string_view text = data->get_string();
        if (text.size() > params.max_data_size) {
            return error_response(400, "data-too-large",
                                  "'data' is " + std::to_string(text.size()) + " bytes; at most " +
                                      std::to_string(params.max_data_size));
        }
        out.data.assign(text.begin(), text.end());
    }

    if (const json::value* coins = obj.if_contains("coins")) {
        if (!coins->is_array() || coins->as_array().empty() ||
            coins->as_array().size() > kMaxSendCoins) {
            return bad_request("'coins' must be an array of 1 to " + std::to_string(kMaxSendCoins) +
                               " \"txid:index\" strings");
        }
        for (const json::value& c : coins->as_array()) {
            auto outpoint = c.is_string() ? parse_outpoint(c.get_string()) : std::nullopt;
            if (!outpoint) {
                return bad_request("a coin is \"<64 hex digits>:<output index>\", not " +
                                   (c.is_string()
                                        ? "'" + std::string(c.get_string().subview(0, 80)) + "'"
                                        : json_kind(c)));
            }
            out.coins.push_back(*outpoint);
        }
    }
    return out;
}

std::optional<core::OutPoint> parse_outpoint(std::string_view text) {
    const std::size_t colon = text.find(':');
    if (colon != 2 * core::Uint256::kSize || text.size() > colon + 11) return std::nullopt;
    auto txid = core::Uint256::from_hex(text.substr(0, colon));
    const std::string_view index = text.substr(colon + 1);
    if (!txid || index.empty()) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : index) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n > 0xffffffffu) return std::nullopt;
    return core::OutPoint{*txid, static_cast<std::uint32_t>(n)};
}

unsigned reject_status(const core::ValidationResult& why) {
    using core::ValidationCode;
    const std::string& r = why.reason;
    if (r == "bad-address" || r == "amount-out-of-range" || r == "fee-rate-out-of-range" ||
        r == "unknown-coin" || r == "coin-not-spendable" || r == "data-too-large") {
        return 400;
    }
    if (r == "shutting-down" || r == "unavailable") return 503;
    if (r == "txn-mempool-conflict") return 409;
    switch (why.code) {
        case ValidationCode::kOk:
        case ValidationCode::kInternal:
            return 500;
        case ValidationCode::kInvalid:
        case ValidationCode::kMissingPrev:
        case ValidationCode::kTimeFuture:
            return 400;
        case ValidationCode::kDuplicate:
            return 409;
        case ValidationCode::kPolicy:
            return 422;
    }
    return 500;
}

Response reject_response(const core::ValidationResult& why) {
    const std::string_view code =
        is_error_code(why.reason) ? std::string_view(why.reason) : std::string_view("rejected");
    const unsigned status = reject_status(why);
    if (status == 500) {
        // Our own failure (a disk error): the detail is for the log, not the client.
        spdlog::error("api: transaction refused by an internal failure: {}", why.to_string());
        return internal_error();
    }
    return error_response(status, code, why.detail.empty() ? why.reason : why.detail);
}

}  // namespace peerchain::api
