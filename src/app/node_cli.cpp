#include "app/node_cli.hpp"

#include <boost/json.hpp>
#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <vector>

#include "wallet/amount_text.hpp"

namespace peerchain::app {

namespace {

namespace json = boost::json;
using Kind = NodeCommand::Kind;

// Text shown for a payload, at most this many characters before an ellipsis.
constexpr std::size_t kShownData = 60;

std::optional<json::value> parse_json(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return std::nullopt;
    return v;
}

std::string raw(std::string_view body) {
    std::string out(body);
    if (out.empty() || out.back() != '\n') out += '\n';
    return out;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (!hex) return false;
    }
    return true;
}

bool is_height(std::string_view s) {
    if (s.empty() || s.size() > 10) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// A field of any JSON kind as text: strings as they are, numbers as written (integers
// without a fraction, 1E0 as 1), booleans, "-" when absent or null.
std::string text(const json::object& obj, std::string_view name) {
    const json::value* v = obj.if_contains(name);
    if (v == nullptr || v->is_null()) return "-";
    if (v->is_string()) return std::string(v->as_string());
    if (v->is_int64()) return std::to_string(v->as_int64());
    if (v->is_uint64()) return std::to_string(v->as_uint64());
    if (v->is_double()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6g", v->as_double());
        return buf;
    }
    if (v->is_bool()) return v->as_bool() ? "yes" : "no";
    return json::serialize(*v);
}

std::optional<std::int64_t> integer(const json::object& obj, std::string_view name) {
    const json::value* v = obj.if_contains(name);
    if (v == nullptr || !v->is_int64()) return std::nullopt;
    return v->as_int64();
}

std::string coins(const json::object& obj, std::string_view name) {
    const auto v = integer(obj, name);
    return v ? wallet::format_coins(*v) : "-";
}

// A payload for one line: printable ASCII as is, anything else escaped, cut at kShownData.
std::string shown_data(std::string_view data) {
    std::string out = "\"";
    for (std::size_t i = 0; i < data.size(); ++i) {
        if (out.size() > kShownData) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(data[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out + "\"";
}

std::string trimmed_work(std::string work) {
    const std::size_t first = work.find_first_not_of('0');
    return first == std::string::npos ? "0" : "0x" + work.substr(first);
}

// Left-aligned columns separated by two spaces; the last column is not padded.
class Table {
  public:
    explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    std::string str() const {
        std::vector<std::size_t> width;
        for (const auto& row : rows_) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (width.size() <= i) width.push_back(0);
                width[i] = std::max(width[i], row[i].size());
            }
        }
        std::string out;
        for (const auto& row : rows_) {
            std::string line;
            for (std::size_t i = 0; i < row.size(); ++i) {
                line += row[i];
                if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
            }
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out += line + "\n";
        }
        return out;
    }

  private:
    std::vector<std::vector<std::string>> rows_;
};

// "name  value" lines with the names padded to one width.
std::string fields(const std::vector<std::pair<std::string, std::string>>& rows) {
    std::size_t width = 0;
    for (const auto& [name, value] : rows) width = std::max(width, name.size());
    std::string out;
    for (const auto& row : rows) {
        out += row.first + std::string(width - row.first.size() + 2, ' ') + row.second + "\n";
    }
    return out;
}

std::string format_status(const json::object& o) {
    std::string mining = "idle";
    if (const json::value* m = o.if_contains("mining"); m != nullptr && m->is_object()) {
        const json::object& mo = m->as_object();
        const json::value* on = mo.if_contains("continuous");
        mining = (on != nullptr && on->is_bool() && on->as_bool()) ? "continuous" : "on request";
        const std::string threads = text(mo, "threads");
        mining += ", " + threads + (threads == "1" ? " thread, " : " threads, ") +
                  text(mo, "hashesPerSecond") + " hashes/s, " + text(mo, "blocksFound") +
                  " blocks found";
    }
    std::string median = text(o, "medianTime");
    if (auto t = integer(o, "medianTime")) median = format_time(*t);
    return fields({{"network", text(o, "network")},
                   {"height", text(o, "height")},
                   {"tip", text(o, "tipHash")},
                   {"headers", text(o, "bestHeaderHeight")},
                   {"peers", text(o, "peers")},
                   {"difficulty", text(o, "difficulty") + " (bits " + text(o, "bits") + ")"},
                   {"chain work", trimmed_work(text(o, "chainwork"))},
                   {"median time", median},
                   {"mining", mining},
                   {"version", text(o, "userAgent")}});
}

std::string format_peers(const json::array& peers) {
    if (peers.empty()) return "no peers\n";
    Table t({"ID", "DIRECTION", "TRANSPORT", "ADDRESS", "HEIGHT", "PING", "MANUAL", "AGENT"});
    for (const json::value& p : peers) {
        if (!p.is_object()) continue;
        const json::object& o = p.as_object();
        std::string ping = text(o, "pingMs");
        if (ping != "-") ping += " ms";
        t.add({text(o, "id"), text(o, "direction"), text(o, "transport"), text(o, "address"),
               text(o, "syncedHeight"), ping, text(o, "manual"), text(o, "userAgent")});
    }
    return t.str();
}

std::string format_block(const json::object& o) {
    std::string time = text(o, "timestamp");
    if (auto t = integer(o, "timestamp")) time = format_time(*t) + " (" + time + ")";
    std::string data = "-";
    if (const json::value* d = o.if_contains("data"); d != nullptr && d->is_string()) {
        if (!d->as_string().empty()) data = shown_data(d->as_string());
    }
    std::string out =
        fields({{"height", text(o, "index")},
                {"hash", text(o, "hash")},
                {"previous", text(o, "previousHash")},
                {"time", time},
                {"merkle root", text(o, "merkleRoot")},
                {"bits", text(o, "bits") + " (difficulty " + text(o, "difficulty") + ")"},
                {"nonce", text(o, "nonce")},
                {"size", text(o, "size") + " bytes"},
                {"confirmations", text(o, "confirmations")},
                {"data", data}});
    const json::value* txs = o.if_contains("transactions");
    if (txs == nullptr || !txs->is_array()) return out;
    out += "\n" + std::to_string(txs->as_array().size()) + " transaction" +
           (txs->as_array().size() == 1 ? "" : "s") + ":\n";
    Table t({"TXID", "OUTPUTS", "AMOUNT", "FEE", "DATA"});
    for (const json::value& tx : txs->as_array()) {
        if (!tx.is_object()) continue;
        const json::object& to = tx.as_object();
        const json::value* outs = to.if_contains("outputs");
        const std::size_t n = outs != nullptr && outs->is_array() ? outs->as_array().size() : 0;
        std::string tx_data;
        if (const json::value* d = to.if_contains("data"); d != nullptr && d->is_string()) {
            if (!d->as_string().empty()) tx_data = shown_data(d->as_string());
        }
        const json::value* cb = to.if_contains("coinbase");
        const bool coinbase = cb != nullptr && cb->is_bool() && cb->as_bool();
        t.add({text(to, "txid"), std::to_string(n), coins(to, "outputTotal"),
               coinbase ? "coinbase" : coins(to, "fee"), tx_data});
    }
    return out + t.str();
}

std::string format_tx(const json::object& o) {
    const json::value* cb = o.if_contains("coinbase");
    const bool coinbase = cb != nullptr && cb->is_bool() && cb->as_bool();
    const json::value* pool = o.if_contains("inMempool");
    std::string where;
    if (pool != nullptr && pool->is_bool() && pool->as_bool()) {
        where = "in the pool";
        if (auto t = integer(o, "time")) where += " since " + format_time(*t);
    } else {
        where = "in block " + text(o, "blockHeight") + " (" + text(o, "blockHash") + "), " +
                text(o, "confirmations") + " confirmations";
    }
    std::string data = "-";
    if (const json::value* d = o.if_contains("data"); d != nullptr && d->is_string()) {
        if (!d->as_string().empty()) data = shown_data(d->as_string());
    }
    std::string out = fields({{"txid", text(o, "txid")},
                              {"status", where},
                              {"size", text(o, "size") + " bytes"},
                              {"fee", coinbase ? "none (coinbase)" : coins(o, "fee")},
                              {"data", data}});
    if (const json::value* ins = o.if_contains("inputs"); ins != nullptr && ins->is_array()) {
        out += "\ninputs:\n";
        if (coinbase) {
            out += "  coinbase (new coins)\n";
        } else {
            Table t({"  SPENDS", "AMOUNT", "FROM"});
            for (const json::value& in : ins->as_array()) {
                if (!in.is_object()) continue;
                const json::object& io = in.as_object();
                t.add({"  " + text(io, "txid") + ":" + text(io, "index"), coins(io, "amount"),
                       text(io, "address")});
            }
            out += t.str();
        }
    }
    if (const json::value* outs = o.if_contains("outputs"); outs != nullptr && outs->is_array()) {
        out += "\noutputs:\n";
        Table t({"  INDEX", "AMOUNT", "TO"});
        std::size_t k = 0;
        for (const json::value& v : outs->as_array()) {
            if (!v.is_object()) continue;
            const json::object& oo = v.as_object();
            t.add({"  " + std::to_string(k++), coins(oo, "amount"), text(oo, "address")});
        }
        out += t.str();
    }
    return out;
}

std::string format_mempool(const json::array& entries) {
    if (entries.empty()) return "the pool is empty\n";
    Table t({"TXID", "FEE", "SIZE", "FEE/BYTE", "SINCE"});
    for (const json::value& e : entries) {
        if (!e.is_object()) continue;
        const json::object& o = e.as_object();
        std::string since = text(o, "time");
        if (auto s = integer(o, "time")) since = format_time(*s);
        t.add({text(o, "txid"), coins(o, "fee"), text(o, "size"), text(o, "feeRate"), since});
    }
    return t.str();
}

std::string format_mined(const json::object& o) {
    const json::value* blocks = o.if_contains("blocks");
    if (blocks == nullptr || !blocks->is_array()) return {};
    Table t({"HEIGHT", "HASH"});
    for (const json::value& b : blocks->as_array()) {
        if (b.is_object()) t.add({text(b.as_object(), "height"), text(b.as_object(), "hash")});
    }
    const std::size_t n = blocks->as_array().size();
    return "mined " + std::to_string(n) + " block" + (n == 1 ? "" : "s") + ":\n" + t.str();
}

}  // namespace

std::string format_time(std::int64_t unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
    char buf[64];
    if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        return std::to_string(unix_seconds);
    }
    return buf;
}

util::Result<api::client::HttpRequest> make_node_request(const NodeCommand& command) {
    auto invalid = [](std::string message) {
        return util::Unexpected(util::Errc::kInvalidArgument, std::move(message));
    };
    api::client::HttpRequest r;
    switch (command.kind) {
        case Kind::kStatus:
            r.target = "/status";
            break;
        case Kind::kPeers:
            r.target = "/peers";
            break;
        case Kind::kBlock:
            if (!is_height(command.id) && !is_hex64(command.id)) {
                return invalid("'" + command.id.substr(0, 80) +
                               "' is not a block height or a 64-digit block hash");
            }
            r.target = "/blocks/" + command.id;
            break;
        case Kind::kTx:
            if (!is_hex64(command.id)) {
                return invalid("'" + command.id.substr(0, 80) +
                               "' is not a transaction id (64 hex digits)");
            }
            r.target = "/transactions/" + command.id;
            break;
        case Kind::kMempool:
            r.target = "/mempool";
            break;
        case Kind::kMine: {
            if (command.count == 0) return invalid("the count must be 1 or more");
            json::object body;
            body["count"] = command.count;
            if (!command.to.empty()) body["to"] = command.to;
            r.method = "POST";
            r.target = "/mineBlock";
            r.body = json::serialize(body);
            break;
        }
        case Kind::kAddPeer:
            r.method = "POST";
            r.target = "/addPeer";
            r.body = json::serialize(json::object{{"peer", command.id}});
            break;
    }
    return r;
}

std::string format_node_answer(const NodeCommand& command, std::string_view body) {
    const auto doc = parse_json(body);
    if (!doc) return raw(body);
    std::string out;
    switch (command.kind) {
        case Kind::kStatus:
            if (doc->is_object()) out = format_status(doc->as_object());
            break;
        case Kind::kPeers:
            if (doc->is_array()) out = format_peers(doc->as_array());
            break;
        case Kind::kBlock:
            if (doc->is_object()) out = format_block(doc->as_object());
            break;
        case Kind::kTx:
            if (doc->is_object()) out = format_tx(doc->as_object());
            break;
        case Kind::kMempool:
            if (doc->is_array()) out = format_mempool(doc->as_array());
            break;
        case Kind::kMine:
            if (doc->is_object()) out = format_mined(doc->as_object());
            break;
        case Kind::kAddPeer:
            if (doc->is_object()) {
                out =
                    text(doc->as_object(), "peer") + "  " + text(doc->as_object(), "status") + "\n";
            }
            break;
    }
    return out.empty() ? raw(body) : out;
}

CliOutcome run_node_command(const NodeCommand& command, const WalletCliOptions& options) {
    CliOutcome outcome;
    auto request = make_node_request(command);
    if (!request) {
        outcome.exit_code = 2;
        outcome.err = request.error().message + "\n";
        return outcome;
    }
    auto answer = call_node(std::move(*request), options, outcome);
    if (!answer) return outcome;
    outcome.out = options.json ? raw(answer->body) : format_node_answer(command, answer->body);
    return outcome;
}

}  // namespace peerchain::app
