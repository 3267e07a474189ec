// GET /events: the node's event stream as server-sent events (docs/API.md "Event stream";
// event_stream.hpp has the ring and the body).
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "api/errors.hpp"
#include "api/event_stream.hpp"
#include "api/routes.hpp"
#include "api/tx_requests.hpp"
#include "core/address.hpp"

namespace peerchain::api {

namespace {

// A non-negative decimal event number, as Last-Event-ID or ?since= carry it.
std::optional<std::uint64_t> parse_seq(std::string_view text) {
    std::uint64_t value = 0;
    if (text.empty() || text.size() > 20) return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

Response open_stream(NodeApi& node, const Request& req) {
    EventFilter filter;
    if (auto types = req.query_param("types")) {
        auto parsed = EventFilter::parse_types(*types);
        if (!parsed) return bad_request(parsed.error().message);
        filter.types = *parsed;
    }
    if (auto address = req.query_param("address")) {
        const auto& params = node.chain().params();
        auto key = parse_address(*address, params);
        if (!key) return std::move(key.error());
        filter.address = core::encode_address(*key, params);  // the canonical spelling
    }
    // EventSource reconnects to the same URL with Last-Event-ID: the header is the newer.
    std::optional<std::uint64_t> since;
    if (!req.last_event_id.empty()) {
        since = parse_seq(req.last_event_id);
        if (!since) return bad_request("Last-Event-ID is not an event number");
    } else if (auto text = req.query_param("since")) {
        since = parse_seq(*text);
        if (!since) return bad_request("since must be an event number (0 or more)");
    }
    auto hub = node.event_hub();
    if (!hub) return error_response(503, error_code::kUnavailable, "no event stream");
    auto stream = EventStream::open(std::move(hub), std::move(filter), since);
    if (!stream) {
        return error_response(503, error_code::kTooManyConnections,
                              "too many event streams open; try again later");
    }
    auto response = Response::ok_stream(std::move(stream), "text/event-stream");
    response.headers.push_back(Header{"Cache-Control", "no-cache"});
    return response;
}

}  // namespace

void add_event_routes(Router& router, NodeApi& node) {
    router.add(Method::kGet, "/events", Access::kOpen,
               sync_handler([&node](const Request& req) { return open_stream(node, req); }));
}

}  // namespace peerchain::api
