// The peer routes (docs/API.md): connected peers, the address book, manual peers and bans.
// Reading peers and the book is open; adding and removing peers needs a loopback client or
// the token, as mining does; every ban route needs the token always, since a ban can cut
// the node off from the network and the list says whom the node distrusts.
//
// The routes only bound what a client sends (length, printable ASCII, integer types); the
// node parses addresses and URLs, so that there is one grammar for them, in net/.
#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "api/errors.hpp"
#include "api/parsed.hpp"
#include "api/routes.hpp"

namespace peerchain::api {

namespace {

namespace json = boost::json;

json::value unix_time_or_null(std::int64_t t) {
    if (t == 0) return nullptr;
    return t;
}

json::object peer_json(const PeerView& p) {
    json::object o;
    o["id"] = p.id;
    o["address"] = p.address;
    o["direction"] = p.direction;
    if (!p.url.empty()) o["url"] = p.url;
    o["transport"] = p.transport;
    o["manual"] = p.manual;
    o["userAgent"] = p.user_agent;
    o["handshake"] = p.handshake_done;
    o["startHeight"] = p.start_height;
    if (p.synced_height >= 0) o["syncedHeight"] = p.synced_height;
    o["connectedSince"] = p.connected_since;
    if (p.ping_ms >= 0) o["pingMs"] = p.ping_ms;
    return o;
}

json::object known_address_json(const KnownAddressView& a) {
    json::array transports;
    for (const auto& t : a.transports) transports.emplace_back(t);
    json::object o;
    o["address"] = a.address;
    o["transports"] = std::move(transports);
    o["url"] = a.url;
    o["source"] = a.source;
    o["lastSeen"] = a.last_seen;
    o["lastTried"] = unix_time_or_null(a.last_tried);
    o["lastSuccess"] = unix_time_or_null(a.last_success);
    o["attempts"] = a.attempts;
    o["table"] = a.tried ? "tried" : "new";
    return o;
}

json::object manual_peer_json(const ManualPeerView& m) {
    return {{"url", m.url},
            {"connected", m.connected},
            {"nextAttempt", m.next_attempt},
            {"failures", m.failures}};
}

json::object ban_json(const BanView& b) {
    return {{"address", b.address}, {"kind", b.kind}, {"created", b.created}, {"until", b.until}};
}

// Text naming a peer or a ban as a client sent it (`what` names it in messages): at most
// kMaxPeerAddressLength bytes of printable ASCII without spaces. Whether it is a valid
// URL or address is for the node to say.
Parsed<std::string> peer_text(std::string_view text, std::string_view what) {
    if (text.empty()) return bad_request(std::string(what) + " is empty");
    if (text.size() > kMaxPeerAddressLength) {
        return bad_request(std::string(what) + " is " + std::to_string(text.size()) +
                           " bytes; at most " + std::to_string(kMaxPeerAddressLength));
    }
    const bool printable =
        std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (!printable) {
        return bad_request(std::string(what) + " must be printable ASCII without spaces");
    }
    return std::string(text);
}

// The string field `name` of `body`, checked by peer_text; `missing` is the message when
// it is absent.
Parsed<std::string> peer_text_field(const json::object& body, std::string_view name,
                                    std::string_view missing) {
    const json::value* v = body.if_contains(name);
    if (v == nullptr) return bad_request(missing);
    const std::string quoted = "'" + std::string(name) + "'";
    if (!v->is_string()) return bad_request(quoted + " must be a string, not " + json_kind(*v));
    return peer_text(v->get_string(), quoted);
}

struct BanRequest {
    std::string address;
    std::int64_t seconds = 0;
};

// {"address": "<host or host:port>", "seconds": <1..kMaxBanSeconds>}, nothing else.
Parsed<BanRequest> parse_ban_request(const Request& req) {
    auto body = req.json_body();
    if (!body) return bad_json(body.error());
    const json::object& obj = body->as_object();
    if (auto r = unknown_field(obj, {"address", "seconds"})) return std::move(*r);
    BanRequest out;
    auto address =
        peer_text_field(obj, "address", "missing 'address': the host or host:port to ban");
    if (!address) return std::move(address.error());
    out.address = std::move(*address);

    const json::value* seconds = obj.if_contains("seconds");
    if (seconds == nullptr) return bad_request("missing 'seconds': how long the ban lasts");
    const auto n = json_integer(*seconds);
    if (!n || *n < 1 || *n > kMaxBanSeconds) {
        return error_response(400, "seconds-out-of-range",
                              "'seconds' must be a JSON integer from 1 to " +
                                  std::to_string(kMaxBanSeconds) + " (ten years), not " +
                                  (n ? std::to_string(*n) : json_kind(*seconds)));
    }
    out.seconds = *n;
    return out;
}

Response remove_peer_answer(NodeApi& node, const std::string& address) {
    if (auto r = node.remove_peer(address); !r) return error_response(r.error());
    return Response::ok({{"peer", address}, {"status", "removed"}});
}

}  // namespace

void add_peer_routes(Router& router, NodeApi& node) {
    router.add(Method::kGet, "/peers", Access::kOpen, sync_handler([&node](const Request&) {
                   json::array out;
                   for (const auto& p : node.peers()) out.push_back(peer_json(p));
                   return Response::ok(std::move(out));
               }));

    router.add(Method::kGet, "/peers/known", Access::kOpen,
               sync_handler([&node](const Request& req) -> Response {
                   auto limit = parse_limit(req, kDefaultKnownAddresses, kMaxKnownAddresses);
                   if (!limit) return std::move(limit.error());
                   const BookView book = node.address_book(*limit);
                   json::array manual;
                   for (const auto& m : book.manual) manual.push_back(manual_peer_json(m));
                   json::array addresses;
                   for (const auto& a : book.addresses) {
                       if (addresses.size() == *limit) break;
                       addresses.push_back(known_address_json(a));
                   }
                   json::object out;
                   out["new"] = book.new_count;
                   out["tried"] = book.tried_count;
                   out["capacity"] = book.capacity;
                   out["manual"] = std::move(manual);
                   out["addresses"] = std::move(addresses);
                   return Response::ok(std::move(out));
               }));

    router.add(
        Method::kPost, {"/addPeer", "/add-to-peer", "/peers"}, Access::kLoopbackOrToken,
        sync_handler([&node](const Request& req) -> Response {
            auto body = req.json_body();
            if (!body) return bad_json(body.error());
            const auto* peer = body->as_object().if_contains("peer");
            if (peer == nullptr || !peer->is_string()) {
                return bad_request("expected {\"peer\": \"ws://host:port\"} or tcp://host:port");
            }
            const std::string url(peer->as_string());
            if (auto r = node.add_peer(url); !r) return error_response(r.error());
            Response res = Response::ok({{"peer", url}, {"status", "connecting"}});
            res.status = 202;
            return res;
        }));

    router.add(Method::kDelete, "/peers/{address}", Access::kLoopbackOrToken,
               sync_handler([&node](const Request& req) -> Response {
                   auto address = peer_text(req.param("address"), "the peer address");
                   if (!address) return std::move(address.error());
                   return remove_peer_answer(node, *address);
               }));

    router.add(Method::kPost, {"/removePeer", "/remove-peer"}, Access::kLoopbackOrToken,
               sync_handler([&node](const Request& req) -> Response {
                   auto body = req.json_body();
                   if (!body) return bad_json(body.error());
                   const json::object& obj = body->as_object();
                   if (auto r = unknown_field(obj, {"peer"})) return std::move(*r);
                   auto peer = peer_text_field(
                       obj, "peer", "expected {\"peer\": \"ws://host:port\"} or a host:port");
                   if (!peer) return std::move(peer.error());
                   return remove_peer_answer(node, *peer);
               }));

    router.add(Method::kGet, "/bans", Access::kTokenAlways, sync_handler([&node](const Request&) {
                   json::array out;
                   for (const auto& b : node.bans()) out.push_back(ban_json(b));
                   return Response::ok(std::move(out));
               }));

    router.add(Method::kPost, "/bans", Access::kTokenAlways,
               sync_handler([&node](const Request& req) -> Response {
                   auto request = parse_ban_request(req);
                   if (!request) return std::move(request.error());
                   auto banned = node.ban(request->address, request->seconds);
                   if (!banned) return error_response(banned.error());
                   return Response::ok(ban_json(*banned));
               }));

    router.add(Method::kDelete, "/bans/{address}", Access::kTokenAlways,
               sync_handler([&node](const Request& req) -> Response {
                   auto address = peer_text(req.param("address"), "the banned address");
                   if (!address) return std::move(address.error());
                   if (auto r = node.unban(*address); !r) return error_response(r.error());
                   return Response::ok({{"address", *address}, {"status", "unbanned"}});
               }));
}

}  // namespace peerchain::api
