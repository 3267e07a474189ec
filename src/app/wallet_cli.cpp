#include "app/wallet_cli.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "api/auth.hpp"
#include "core/amount.hpp"
#include "node/config.hpp"
#include "wallet/amount_text.hpp"

namespace peerchain::app {

namespace {

namespace json = boost::json;
using Kind = WalletCommand::Kind;

// node.json is a few hundred bytes; anything much larger is not ours.
constexpr std::size_t kMaxNodeInfoSize = 64 * 1024;

util::Result<std::string> read_bounded(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return util::Unexpected(util::Errc::kNotFound, "no " + path.string());
    std::string text(kMaxNodeInfoSize + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxNodeInfoSize) {
        return util::Unexpected(util::Errc::kDecode, path.string() + " is too large");
    }
    return text;
}

std::optional<json::value> parse_json(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return std::nullopt;
    return v;
}

// An amount field as coins text, or nullopt when it is not an integer.
std::optional<std::string> coins_field(const json::object& obj, std::string_view name) {
    const json::value* v = obj.if_contains(name);
    if (v == nullptr || !v->is_int64()) return std::nullopt;
    return wallet::format_coins(v->as_int64());
}

std::string string_field(const json::object& obj, std::string_view name) {
    const json::value* v = obj.if_contains(name);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string pad_left(std::string s, std::size_t width) {
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
}

std::string raw(std::string_view body) {
    std::string out(body);
    if (out.empty() || out.back() != '\n') out += '\n';
    return out;
}

std::string format_balance(const json::object& obj, std::string_view body) {
    const auto confirmed = coins_field(obj, "confirmed");
    const auto pending = coins_field(obj, "pending");
    const auto immature = coins_field(obj, "immature");
    if (!confirmed || !pending || !immature) return raw(body);
    const std::size_t w = std::max({confirmed->size(), pending->size(), immature->size()});
    return "confirmed  " + pad_left(*confirmed, w) + "\n" + "pending    " + pad_left(*pending, w) +
           "\n" + "immature   " + pad_left(*immature, w) + "\n";
}

std::string format_utxos(const json::value& doc, std::string_view body) {
    const json::array* coins = nullptr;
    if (doc.is_array()) {
        coins = &doc.as_array();
    } else if (doc.is_object()) {
        for (const char* key : {"utxos", "coins"}) {
            const json::value* v = doc.as_object().if_contains(key);
            if (v != nullptr && v->is_array()) coins = &v->as_array();
        }
    }
    if (coins == nullptr) return raw(body);
    if (coins->empty()) return "no coins\n";
    std::string out;
    for (const json::value& c : *coins) {
        if (!c.is_object()) return raw(body);
        const json::object& o = c.as_object();
        const auto amount = coins_field(o, "amount");
        const json::value* index = o.if_contains("index");
        if (index == nullptr) index = o.if_contains("vout");
        if (!amount || index == nullptr || !index->is_int64()) return raw(body);
        const json::value* height = o.if_contains("height");
        std::string where = "unconfirmed";
        if (height != nullptr && height->is_int64() && height->as_int64() >= 0) {
            where = "height " + std::to_string(height->as_int64());
        }
        auto flag = [&](const char* name) {
            const json::value* v = o.if_contains(name);
            return v != nullptr && v->is_bool() && v->as_bool();
        };
        const json::value* mature = o.if_contains("mature");
        std::string notes;
        if (flag("coinbase")) notes += " coinbase";
        if (mature != nullptr && mature->is_bool() && !mature->as_bool()) notes += " immature";
        if (flag("spentInPool") || flag("spentInMempool")) notes += " spent-in-pool";
        out += string_field(o, "txid") + ":" + std::to_string(index->as_int64()) + "  " +
               pad_left(*amount, 17) + "  " + where + notes + "\n";
    }
    return out;
}

}  // namespace

util::Result<NodeInfo> parse_node_info(std::string_view text) {
    const auto doc = parse_json(text);
    if (!doc || !doc->is_object()) {
        return util::Unexpected(util::Errc::kDecode, "node.json is not a JSON object");
    }
    const json::object& obj = doc->as_object();
    const json::value* port = obj.if_contains("httpPort");
    if (port == nullptr || !port->is_int64() || port->as_int64() < 1 || port->as_int64() > 65535) {
        return util::Unexpected(util::Errc::kDecode, "node.json has no httpPort");
    }
    NodeInfo info;
    info.http_port = static_cast<std::uint16_t>(port->as_int64());
    info.network = string_field(obj, "network");
    info.http_bind = string_field(obj, "httpBind");
    return info;
}

std::string connect_host(std::string_view bind) {
    if (bind.empty() || bind == "0.0.0.0") return "127.0.0.1";
    if (bind == "::" || bind == "[::]") return "::1";
    return std::string(bind);
}

util::Result<api::client::HttpRequest> make_request(const WalletCommand& command) {
    api::client::HttpRequest r;
    switch (command.kind) {
        case Kind::kAddress:
            r.target = "/wallet/address";
            break;
        case Kind::kNewAddress:
            r.method = "POST";
            r.target = "/wallet/address";
            r.body = "{}";
            break;
        case Kind::kBalance:
            r.target = "/wallet/balance";
            break;
        case Kind::kUtxos:
            r.target = "/wallet/utxos";
            break;
        case Kind::kSend: {
            auto amount = wallet::parse_coins(command.amount);
            if (!amount) return util::Unexpected(amount.error());
            if (*amount == 0) {
                return util::Unexpected(util::Errc::kInvalidArgument, "the amount must be above 0");
            }
            json::object body;
            body["to"] = command.to;
            body["amount"] = *amount;
            if (command.data) body["data"] = *command.data;
            if (command.fee_rate) body["feeRate"] = *command.fee_rate;
            if (!command.coins.empty()) {
                json::array coins;
                for (const auto& c : command.coins) coins.push_back(json::string(c));
                body["coins"] = std::move(coins);
            }
            r.method = "POST";
            r.target = "/wallet/send";
            r.body = json::serialize(body);
            break;
        }
    }
    return r;
}

std::string format_answer(const WalletCommand& command, std::string_view body) {
    const auto doc = parse_json(body);
    if (!doc) return raw(body);
    if (command.kind == Kind::kUtxos) return format_utxos(*doc, body);
    if (!doc->is_object()) return raw(body);
    const json::object& obj = doc->as_object();
    switch (command.kind) {
        case Kind::kAddress:
        case Kind::kNewAddress: {
            const std::string address = string_field(obj, "address");
            return address.empty() ? raw(body) : address + "\n";
        }
        case Kind::kBalance:
            return format_balance(obj, body);
        case Kind::kSend: {
            // The txid alone, so that TX=$(peerchain wallet send ...) works.
            const std::string txid = string_field(obj, "txid");
            return txid.empty() ? raw(body) : txid + "\n";
        }
        case Kind::kUtxos:
            break;
    }
    return raw(body);
}

std::string format_send_note(std::string_view body) {
    const auto doc = parse_json(body);
    if (!doc || !doc->is_object()) return {};
    const auto fee = coins_field(doc->as_object(), "fee");
    return fee ? "fee " + *fee + "\n" : std::string();
}

NodeEndpoint find_node(const WalletCliOptions& options) {
    NodeEndpoint node;
    node.client.timeout = options.timeout;
    auto info_text = read_bounded(node::node_info_file(options.data_dir));
    std::optional<NodeInfo> info;
    if (info_text) {
        auto parsed = parse_node_info(*info_text);
        if (parsed) info = *parsed;
    }
    if (options.http_port) {
        node.client.port = *options.http_port;
        node.port_source = "--http-port";
    } else if (info) {
        node.client.port = info->http_port;
        node.port_source = node::node_info_file(options.data_dir).string();
    } else if (options.env_port) {
        node.client.port = *options.env_port;
        node.port_source = "HTTP_PORT";
    } else {
        node.port_source = "the default port";
    }
    node.client.host = connect_host(info ? info->http_bind : std::string());
    if (auto token = api::read_cookie(options.data_dir)) node.token = *token;
    return node;
}

std::string unreachable_message(const util::Error& error, const NodeEndpoint& node,
                                const WalletCliOptions& options) {
    if (error.code == util::Errc::kUnavailable && !node.token) {
        const api::client::HttpClient client(node.client);
        return "no node is running on " + options.data_dir.string() +
               " (it has no API cookie, and nothing answers at " + client.authority() +
               "); start one with `peerchain node`\n";
    }
    if (error.code == util::Errc::kUnavailable) {
        return error.message + " (port from " + node.port_source + "); is the node running?\n";
    }
    return error.message + "\n";
}

std::optional<api::client::HttpResponse> call_node(api::client::HttpRequest request,
                                                   const WalletCliOptions& options,
                                                   CliOutcome& outcome) {
    const NodeEndpoint node = find_node(options);
    if (node.token) request.bearer_token = *node.token;
    const api::client::HttpClient client(node.client);
    auto answer = client.request(request);
    if (!answer) {
        outcome.exit_code = 1;
        outcome.err = unreachable_message(answer.error(), node, options);
        return std::nullopt;
    }
    if (!answer->ok()) {
        outcome.exit_code = 1;
        if (auto error = api::client::parse_api_error(answer->body)) {
            outcome.err = error->message + " (" + error->code + ")\n";
        } else {
            outcome.err = "the node answered HTTP " + std::to_string(answer->status) + "\n";
        }
        if (answer->status == 401 && !node.token) {
            outcome.err += "no API cookie in " + options.data_dir.string() +
                           ": is that the node's data directory?\n";
        }
        if (options.json) outcome.out = raw(answer->body);
        return std::nullopt;
    }
    return std::move(*answer);
}

CliOutcome run_wallet(const WalletCommand& command, const WalletCliOptions& options) {
    CliOutcome outcome;
    auto request = make_request(command);
    if (!request) {
        outcome.exit_code = 2;
        outcome.err = request.error().message + "\n";
        return outcome;
    }
    auto answer = call_node(std::move(*request), options, outcome);
    if (!answer) return outcome;
    outcome.out = options.json ? raw(answer->body) : format_answer(command, answer->body);
    if (!options.json && command.kind == Kind::kSend) outcome.note = format_send_note(answer->body);
    return outcome;
}

}  // namespace peerchain::app
