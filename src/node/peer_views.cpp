#include "node/peer_views.hpp"

#include <algorithm>

namespace peerchain::node {

namespace {

std::vector<std::string> transport_names(std::uint8_t bits) {
    std::vector<std::string> out;
    if ((bits & net::addrman::kTransportWebSocket) != 0) out.emplace_back("ws");
    if ((bits & net::addrman::kTransportTcp) != 0) out.emplace_back("tcp");
    return out;
}

api::BanView view_of(const net::addrman::BanEntry& entry) {
    api::BanView v;
    v.address = entry.address;
    v.kind = net::addrman::ban_kind_name(entry.kind);
    v.created = entry.created;
    v.until = entry.until;
    return v;
}

}  // namespace

std::vector<api::PeerView> peer_views(const net::peer_manager::PeerManager& peers,
                                      const net::connman::ConnMan& connman) {
    std::vector<api::PeerView> out;
    for (const auto& p : peers.peers()) {
        api::PeerView v;
        v.id = p.id;
        v.address = p.address;
        v.direction = net::peer_manager::direction_name(p.direction);
        v.url = p.url;
        v.user_agent = p.user_agent;
        v.handshake_done = p.handshake_complete;
        v.start_height = p.start_height;
        v.synced_height = p.best_known_height;
        v.connected_since = p.connected_since;
        v.ping_ms = p.ping_ms;
        v.transport = p.transport == net::addrman::kTransportTcp ? "tcp" : "ws";
        v.manual = connman.is_manual(p.id);
        out.push_back(std::move(v));
    }
    return out;
}

api::BookView book_view(net::connman::ConnMan& connman, std::size_t limit) {
    auto& book = connman.book();
    api::BookView view;
    view.new_count = book.new_count();
    view.tried_count = book.tried_count();
    view.capacity = book.capacity();
    auto entries = book.list();
    std::stable_partition(entries.begin(), entries.end(), [](const auto& e) { return e.tried; });
    for (const auto& e : entries) {
        if (view.addresses.size() >= limit) break;
        api::KnownAddressView a;
        a.address = e.address.host_port();
        a.transports = transport_names(e.address.transports);
        a.url = e.address.to_string();
        a.source = e.source;
        a.last_seen = e.last_seen;
        a.last_tried = e.last_try;
        a.last_success = e.last_success;
        a.attempts = static_cast<int>(e.attempts);
        a.tried = e.tried;
        view.addresses.push_back(std::move(a));
    }
    for (const auto& m : connman.manual_peers()) {
        view.manual.push_back({m.url, m.connected, m.next_attempt, m.failures});
    }
    return view;
}

std::vector<api::BanView> ban_views(net::connman::ConnMan& connman) {
    std::vector<api::BanView> out;
    for (const auto& entry : connman.bans().list()) out.push_back(view_of(entry));
    return out;
}

util::Result<api::BanView> ban(net::connman::ConnMan& connman, const std::string& address,
                               std::int64_t seconds) {
    auto entry = connman.ban(address, seconds);
    if (!entry) return util::Unexpected(entry.error());
    return view_of(*entry);
}

util::Result<void> unban(net::connman::ConnMan& connman, const std::string& address) {
    auto removed = connman.unban(address);
    if (!removed) return util::Unexpected(removed.error());
    if (!*removed) return util::Unexpected(util::Errc::kNotFound, "no ban on " + address);
    return {};
}

}  // namespace peerchain::node
