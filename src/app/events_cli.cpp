#include "app/events_cli.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "api/client/http_client.hpp"
#include "wallet/amount_text.hpp"

namespace peerchain::app {

namespace {

namespace json = boost::json;

// The server's keep-alive comes every few seconds; this much silence means the link is
// gone.
constexpr std::chrono::milliseconds kIdleTimeout{60'000};
constexpr std::uint64_t kDefaultRetryMs = 2'000;
constexpr std::uint64_t kMinRetryMs = 100;
constexpr std::uint64_t kMaxRetryMs = 60'000;

std::string percent_encode(std::string_view s) {
    std::string out;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~' ||
                           c == ',';
        if (plain) {
            out += c;
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", u);
            out += buf;
        }
    }
    return out;
}

std::string value_text(const json::value& v) {
    if (v.is_string()) {
        const auto& s = v.as_string();
        const bool plain = !s.empty() && s.find_first_of(" \t\n\"=") == json::string::npos;
        return plain ? std::string(s) : json::serialize(v);
    }
    if (v.is_double()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.6g", v.as_double());
        return buf;
    }
    return json::serialize(v);
}

std::string now_utc() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    char buf[16] = "";
    if (gmtime_r(&t, &tm) != nullptr) std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

}  // namespace

std::vector<SseEvent> SseParser::feed(std::string_view piece) {
    std::vector<SseEvent> out;
    for (char c : piece) {
        if (failed_) break;
        if (after_cr_) {
            after_cr_ = false;
            if (c == '\n') continue;  // the LF of a CRLF
        }
        if (c == '\r' || c == '\n') {
            after_cr_ = c == '\r';
            line(partial_, out);
            partial_.clear();
            continue;
        }
        if (partial_.size() >= max_line_) {
            failed_ = true;
            break;
        }
        partial_ += c;
    }
    return out;
}

void SseParser::line(std::string_view text, std::vector<SseEvent>& out) {
    if (text.empty()) {
        if (has_data_) {
            if (current_.event.empty()) current_.event = "message";
            out.push_back(std::move(current_));
        }
        current_ = SseEvent{};
        has_data_ = false;
        return;
    }
    if (text.front() == ':') return;
    std::string_view field = text;
    std::string_view value;
    if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
        field = text.substr(0, colon);
        value = text.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
        if (has_data_) current_.data += '\n';
        current_.data += value;
        has_data_ = true;
    } else if (field == "event") {
        current_.event = std::string(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) current_.id = std::string(value);
    } else if (field == "retry") {
        std::uint64_t ms = 0;
        bool digits = !value.empty() && value.size() <= 12;
        for (char c : value) {
            if (c < '0' || c > '9') digits = false;
            if (digits) ms = ms * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (digits) retry_ms_ = ms;
    }
}

std::string format_event(const SseEvent& event) {
    boost::system::error_code ec;
    const json::value doc = json::parse(event.data, ec);
    if (ec || !doc.is_object()) return event.event + "  " + event.data;
    const json::object& o = doc.as_object();
    std::string line;
    if (const json::value* seq = o.if_contains("seq");
        seq != nullptr && seq->is_int64() && seq->as_int64() > 0) {
        line = "#" + std::to_string(seq->as_int64()) + " ";
    }
    std::string type = event.event;
    if (const json::value* t = o.if_contains("type"); t != nullptr && t->is_string()) {
        type = std::string(t->as_string());
    }
    line += type;
    if (type.size() < 12) line += std::string(12 - type.size(), ' ');
    // The fields worth a glance for the types the node sends (docs/API.md); every field
    // for any other type. Amounts print as coins.
    std::vector<std::string_view> shown;
    if (type == "block") shown = {"height", "hash", "txCount"};
    if (type == "tx") shown = {"txid", "fee", "outputTotal", "addresses"};
    if (type == "tx-confirmed") shown = {"txid", "height"};
    if (type == "peer") shown = {"event", "address", "direction", "transport"};
    auto add = [&line](std::string_view key, const json::value& v) {
        line += " ";
        line += key;
        line += "=";
        const bool amount = key == "fee" || key == "outputTotal";
        line += amount && v.is_int64() ? wallet::format_coins(v.as_int64()) : value_text(v);
    };
    if (shown.empty()) {
        for (const auto& field : o) {
            if (field.key() != "seq" && field.key() != "type") add(field.key(), field.value());
        }
    }
    for (std::string_view key : shown) {
        if (const json::value* v = o.if_contains(key)) add(key, *v);
    }
    return line;
}

std::string events_target(const EventsOptions& options) {
    std::string target = "/events";
    char sep = '?';
    auto add = [&](std::string_view name, std::string_view value) {
        target += sep;
        target += name;
        target += '=';
        target += percent_encode(value);
        sep = '&';
    };
    if (!options.types.empty()) add("types", options.types);
    if (!options.address.empty()) add("address", options.address);
    if (options.since) add("since", std::to_string(*options.since));
    return target;
}

int run_events(const EventsOptions& options, const WalletCliOptions& client) {
    std::string last_id;
    std::uint64_t shown = 0;
    bool connected_once = false;
    for (;;) {
        const NodeEndpoint node = find_node(client);
        api::client::HttpRequest request;
        request.target = events_target(options);
        if (node.token) request.bearer_token = *node.token;
        if (!last_id.empty()) request.headers.push_back({"Last-Event-ID", last_id});
        SseParser parser;
        bool done = false;
        const api::client::HttpClient http(node.client);
        auto answer = http.stream(
            request,
            [&](std::string_view piece) {
                connected_once = true;
                for (const SseEvent& e : parser.feed(piece)) {
                    if (!e.id.empty()) last_id = e.id;
                    const std::string text = client.json ? e.data : format_event(e);
                    if (client.json) {
                        std::printf("%s\n", text.c_str());
                    } else {
                        std::printf("%s  %s\n", now_utc().c_str(), text.c_str());
                    }
                    std::fflush(stdout);
                    if (options.limit != 0 && ++shown >= options.limit) {
                        done = true;
                        return false;
                    }
                }
                return !parser.failed();
            },
            kIdleTimeout);
        if (done) return 0;
        if (parser.failed()) {
            std::fprintf(stderr, "peerchain: the event stream has a line over 1 MiB\n");
            return 1;
        }
        if (answer && !answer->ok()) {
            if (auto error = api::client::parse_api_error(answer->body)) {
                std::fprintf(stderr, "peerchain: %s (%s)\n", error->message.c_str(),
                             error->code.c_str());
            } else {
                std::fprintf(stderr, "peerchain: the node answered HTTP %u\n", answer->status);
            }
            return 1;
        }
        if (!answer && !connected_once) {
            std::fprintf(stderr, "peerchain: %s",
                         unreachable_message(answer.error(), node, client).c_str());
            return 1;
        }
        std::uint64_t wait = parser.retry_ms().value_or(kDefaultRetryMs);
        wait = std::clamp(wait, kMinRetryMs, kMaxRetryMs);
        std::fprintf(stderr, "peerchain: the event stream %s; reconnecting in %llu ms%s\n",
                     answer ? "ended" : answer.error().message.c_str(),
                     static_cast<unsigned long long>(wait),
                     last_id.empty() ? "" : (" from event " + last_id).c_str());
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
}

}  // namespace peerchain::app
