// TestNode: the NodeApi the route tests run against. The chain and the pool are real (a
// Chainstate and a Mempool the test owns); submissions go straight to the pool; there is no
// miner and no wallet (those routes answer as on a node without them).
//
// The network is an in-memory model of what node/ keeps, with the rules the routes rely
// on: connected peers, an address book, manual peers (add_peer adds one, idempotently),
// and manual bans beside discouraged hosts. remove_peer forgets the manual peers at an
// address and disconnects the peers there; ban disconnects the peers it covers. Addresses
// are checked by a small grammar (a ws:// or tcp:// URL, "host:port", "[v6]:port", or for a
// ban a bare host) that stands in for net/'s parsers. Tests set up and inspect `net`.
//
// Thread-safety: none; the route tests call the router from one thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/node_api.hpp"
#include "chain/chainstate.hpp"
#include "mempool/mempool.hpp"

namespace peerchain::api::test {

// The node's bounds: the ban list's longest ban (ten years) and a default book's size.
inline constexpr std::int64_t kMaxBanTime = 10LL * 365 * 24 * 60 * 60;
inline constexpr std::size_t kBookCapacity = (256 + 64) * 64;

// "host:port" of a "host:port" or "[v6]:port" text (kept as written), or nullopt.
inline std::optional<std::string> endpoint_of(std::string_view text) {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    const std::string_view host = text.substr(0, colon);
    const std::string_view port = text.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
        return std::nullopt;
    }
    const bool bracketed = host.front() == '[' && host.back() == ']' && host.size() > 2;
    if (!bracketed && host.find_first_of("[]:") != std::string_view::npos) return std::nullopt;
    return std::string(text);
}

// The "host:port" a peer URL ("ws://h:p", "ws://h:p/path", "tcp://h:p") dials, or nullopt.
inline std::optional<std::string> url_endpoint(std::string_view url) {
    std::string_view rest;
    if (url.starts_with("ws://")) {
        rest = url.substr(5);
        rest = rest.substr(0, rest.find('/'));
    } else if (url.starts_with("tcp://")) {
        rest = url.substr(6);
        if (rest.ends_with('/')) rest.remove_suffix(1);
    } else {
        return std::nullopt;
    }
    return endpoint_of(rest);
}

// The host of a ban key: "1.2.3.4" of "1.2.3.4" or "1.2.3.4:6001", "::1" of "[::1]:6001".
inline std::string ban_host(std::string_view key) {
    if (key.front() == '[') return std::string(key.substr(1, key.find(']') - 1));
    if (std::count(key.begin(), key.end(), ':') == 1)
        return std::string(key.substr(0, key.find(':')));
    return std::string(key);
}

class TestNode : public NodeApi {
  public:
    struct Network {
        std::vector<PeerView> connected;
        std::vector<KnownAddressView> book;
        std::size_t capacity = kBookCapacity;
        std::vector<ManualPeerView> manual;
        std::map<std::string, BanView> banned;  // by address, as bans() lists them
        std::vector<BanView> discouraged;
        std::int64_t now = 1'795'242'906;  // unix seconds
        std::size_t last_book_limit = 0;   // what address_book() was last asked for
        int ban_calls = 0;                 // ban() calls, accepted or not
        int remove_calls = 0;              // remove_peer() calls, accepted or not
    };

    TestNode(const chain::Chainstate& chain, mempool::Mempool& pool) : chain_(chain), pool_(pool) {}

    const chain::Chainstate& chain() const override { return chain_; }
    std::vector<PeerView> peers() const override { return net.connected; }
    MiningView mining() const override { return {}; }
    std::string user_agent() const override { return "/test/"; }
    std::string metrics_text() const override { return "# metrics of the test node\n"; }
    void mine_block(util::Bytes data, std::optional<core::XOnlyKey> to,
                    MinedCallback done) override {
        mine_requests.push_back({std::move(data), to});
        done(util::Unexpected(util::Errc::kUnavailable, "no miner"));
    }

    // What mine_block() was asked for, in order (it always fails: there is no miner).
    struct MineRequest {
        util::Bytes data;
        std::optional<core::XOnlyKey> to;
    };
    std::vector<MineRequest> mine_requests;

    util::Result<void> add_peer(const std::string& url) override {
        if (!url_endpoint(url)) return util::Unexpected(util::Errc::kInvalidArgument, "bad URL");
        const bool known = std::any_of(net.manual.begin(), net.manual.end(),
                                       [&](const ManualPeerView& m) { return m.url == url; });
        if (!known) net.manual.push_back({url, false, net.now + 1, 0});
        return {};
    }

    BookView address_book(std::size_t limit) const override {
        net.last_book_limit = limit;
        BookView out;
        for (const auto& a : net.book) {
            (a.tried ? out.tried_count : out.new_count) += 1;
            if (out.addresses.size() < limit) out.addresses.push_back(a);
        }
        out.capacity = net.capacity;
        out.manual = net.manual;
        return out;
    }

    util::Result<void> remove_peer(const std::string& address) override {
        ++net.remove_calls;
        auto endpoint =
            address.find("://") != std::string::npos ? url_endpoint(address) : endpoint_of(address);
        if (!endpoint) {
            return util::Unexpected(util::Errc::kInvalidArgument,
                                    "expected a peer URL or host:port");
        }
        const std::size_t before = net.manual.size() + net.connected.size();
        std::erase_if(net.manual,
                      [&](const ManualPeerView& m) { return url_endpoint(m.url) == endpoint; });
        std::erase_if(net.connected, [&](const PeerView& p) { return p.address == *endpoint; });
        if (net.manual.size() + net.connected.size() == before) {
            return util::Unexpected(util::Errc::kNotFound, "no peer at " + *endpoint);
        }
        return {};
    }

    std::vector<BanView> bans() const override {
        std::vector<BanView> out;
        for (const auto& [address, entry] : net.banned) out.push_back(entry);
        out.insert(out.end(), net.discouraged.begin(), net.discouraged.end());
        return out;
    }

    util::Result<BanView> ban(const std::string& address, std::int64_t seconds) override {
        ++net.ban_calls;
        if (!is_ban_address(address)) {
            return util::Unexpected(util::Errc::kInvalidArgument, "bad address " + address);
        }
        if (seconds < 1 || seconds > kMaxBanTime) {
            return util::Unexpected(util::Errc::kInvalidArgument, "bad ban time");
        }
        BanView b{address, "banned", net.now, net.now + seconds};
        net.banned[address] = b;
        const bool whole_host = ban_host(address) == address;
        std::erase_if(net.connected, [&](const PeerView& p) {
            return whole_host ? ban_host(p.address) == address : p.address == address;
        });
        return b;
    }

    util::Result<void> unban(const std::string& address) override {
        if (!is_ban_address(address)) {
            return util::Unexpected(util::Errc::kInvalidArgument, "bad address " + address);
        }
        if (net.banned.erase(address) == 0) {
            return util::Unexpected(util::Errc::kNotFound, "no ban on " + address);
        }
        return {};
    }

    const mempool::Mempool& mempool() const override { return pool_; }
    void submit_transaction(core::Transaction tx, TxCallback done) override {
        core::Uint256 txid;
        auto r = pool_.accept(std::make_shared<const core::Transaction>(std::move(tx)), &txid);
        done(std::move(r), txid);
    }
    util::Result<std::string> wallet_address(bool) override {
        return util::Unexpected(util::Errc::kUnavailable, "no wallet");
    }
    util::Result<WalletBalance> wallet_balance() const override {
        return util::Unexpected(util::Errc::kUnavailable, "no wallet");
    }
    util::Result<std::vector<WalletCoinView>> wallet_coins() const override {
        return util::Unexpected(util::Errc::kUnavailable, "no wallet");
    }
    void wallet_send(SendRequest, SendCallback done) override {
        done(core::ValidationResult::fail(core::ValidationCode::kInternal, "unavailable"), {});
    }

    mutable Network net;  // mutable: address_book() records the limit it was asked for

  private:
    // "host", "host:port" or "[v6]:port", where a host is an IPv4 quad, a bare IPv6 or a
    // lower-case name.
    static bool is_ban_address(std::string_view a) {
        if (endpoint_of(a)) return true;
        return !a.empty() && a.find_first_of("[]") == std::string_view::npos &&
               std::all_of(a.begin(), a.end(), [](char c) {
                   return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '.' ||
                          c == ':' || c == '-';
               });
    }

    const chain::Chainstate& chain_;
    mempool::Mempool& pool_;
};

}  // namespace peerchain::api::test
