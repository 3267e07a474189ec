#include "node/event_feed.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <thread>
#include <utility>

#include "core/address.hpp"
#include "net/wire/message.hpp"

namespace peerchain::node {

namespace json = boost::json;

namespace {

constexpr std::size_t kTapBatch = 4096;
// After a batch, the thread lets the next one gather this long before it reads again. The
// first event after a quiet spell still wakes it at once; during a sync (thousands of
// events a second) the chain executor then publishes with nobody waiting on the tap, which
// costs it no system call, instead of waking this thread for every event: that wake-up took
// a fifth of the chain executor's time and a quarter of the sync speed.
constexpr std::chrono::milliseconds kGather{10};

json::object tip_json(std::uint32_t height, const core::Uint256& hash) {
    json::object o;
    o["height"] = height;
    o["hash"] = hash.to_hex();
    return o;
}

json::array to_json(const std::vector<std::string>& strings) {
    json::array a;
    a.reserve(strings.size());
    for (const auto& s : strings) a.emplace_back(s);
    return a;
}

}  // namespace

std::vector<std::string> paid_addresses(const core::Transaction& tx, const core::Params& params) {
    std::vector<std::string> out;
    for (const auto& output : tx.outputs) {
        auto address = core::encode_address(output.recipient, params);
        if (std::find(out.begin(), out.end(), address) == out.end()) {
            out.push_back(std::move(address));
        }
    }
    return out;
}

std::vector<std::string> EventFeed::paid(const core::Transaction& tx) {
    std::vector<std::string> out;
    for (const auto& output : tx.outputs) {
        auto it = names_.find(output.recipient);
        if (it == names_.end()) {
            if (names_.size() >= kMaxNames) names_.clear();
            it = names_.emplace(output.recipient, core::encode_address(output.recipient, params_))
                     .first;
        }
        if (std::find(out.begin(), out.end(), it->second) == out.end()) out.push_back(it->second);
    }
    return out;
}

EventFeed::EventFeed(util::EventRing<chain::ChainEvent>& tap, api::EventHub& hub,
                     const core::Params& params)
    : tap_(tap), hub_(hub), params_(params) {}

EventFeed::~EventFeed() { stop(); }

void EventFeed::start() {
    if (thread_.joinable()) return;
    thread_ = std::thread([this] { run(); });
}

void EventFeed::stop() {
    tap_.close();
    if (thread_.joinable()) thread_.join();
}

void EventFeed::run() {
    pthread_setname_np(pthread_self(), "events");
    std::uint64_t next = tap_.last_sequence() + 1;
    while (true) {
        auto read = tap_.read(next, kTapBatch, std::chrono::seconds(60));
        if (read.reset) {
            spdlog::warn("events: the stream fell {} chain events behind; those are not sent",
                         read.events.empty() ? 0 : read.events.front().first - next);
        }
        for (const auto& [seq, event] : read.events) convert(event);
        next = read.next;
        // This thread is the tap's one reader: what it converted (blocks, transactions)
        // need not stay in memory for the tap's next 10,000 events.
        tap_.discard_through(next - 1);
        drain_side();
        if (read.closed && read.events.empty()) break;
        if (!read.events.empty() && !read.closed) std::this_thread::sleep_for(kGather);
    }
}

void EventFeed::push_side(SideItem item) {
    {
        util::LockGuard lock(mutex_);
        if (side_.size() >= kMaxSideItems) {
            ++side_dropped_;
            return;
        }
        side_.push_back(std::move(item));
    }
    tap_.nudge();
}

void EventFeed::drain_side() {
    std::deque<SideItem> items;
    std::uint64_t dropped = 0;
    {
        util::LockGuard lock(mutex_);
        items.swap(side_);
        std::swap(dropped, side_dropped_);
    }
    if (dropped > 0) spdlog::warn("events: {} peer or sync events dropped", dropped);
    for (const auto& item : items) {
        if (const auto* peer = std::get_if<PeerItem>(&item)) {
            convert_peer(*peer);
        } else {
            convert_sync(std::get<SyncReport>(item));
        }
    }
}

void EventFeed::on_peer_ready(const net::peer_manager::PeerInfo& peer) {
    push_side(PeerItem{true, peer});
}

void EventFeed::on_peer_gone(const net::peer_manager::PeerInfo& peer) {
    push_side(PeerItem{false, peer});
}

void EventFeed::publish_sync(const SyncReport& report) { push_side(report); }

void EventFeed::convert(const chain::ChainEvent& e) {
    using Kind = chain::ChainEvent::Kind;
    switch (e.kind) {
        case Kind::kBlockConnected: {
            if (!e.block) return;
            const auto& block = *e.block;
            // Two events a block or more, thousands a second during a sync: rendered as
            // text, without JSON objects (hex and bech32 need no escaping).
            const std::string hash = e.hash.to_hex();
            std::string fields = fmt::format(
                R"("height":{},"hash":"{}","previousHash":"{}","time":{},"txCount":{},"size":{})",
                e.height, hash, block.header.prev_hash.to_hex(), block.header.time,
                block.txs.size(), block.serialized_size());
            hub_.publish_fields(api::EventType::kBlock, fields);
            for (const auto& tx : block.txs) {
                auto addresses = paid(tx);
                fields = fmt::format(R"("txid":"{}","blockHash":"{}","height":{},"addresses":[)",
                                     tx.txid().to_hex(), hash, e.height);
                for (std::size_t i = 0; i < addresses.size(); ++i) {
                    if (i > 0) fields += ',';
                    fields += '"';
                    fields += addresses[i];
                    fields += '"';
                }
                fields += ']';
                hub_.publish_fields(api::EventType::kTxConfirmed, fields, std::move(addresses));
            }
            return;
        }
        case Kind::kBlockDisconnected:
            hub_.publish(api::EventType::kBlockDisconnected, tip_json(e.height, e.hash));
            return;
        case Kind::kTipChanged: {
            if (e.fork_height == e.old_height) return;  // the chain grew: its blocks said it
            json::object data;
            data["oldTip"] = tip_json(e.old_height, e.old_hash);
            data["newTip"] = tip_json(e.height, e.hash);
            data["forkHeight"] = e.fork_height;
            data["depth"] = e.old_height - e.fork_height;
            hub_.publish(api::EventType::kReorg, data);
            return;
        }
        case Kind::kTransactionAdded: {
            if (!e.tx) return;
            const auto& tx = *e.tx;
            core::Amount total = 0;
            for (const auto& out : tx.outputs) total += out.amount;
            auto addresses = paid(tx);
            json::object data;
            data["txid"] = tx.txid().to_hex();
            data["size"] = tx.serialized_size();
            data["fee"] = e.fee;
            data["outputTotal"] = total;
            data["addresses"] = to_json(addresses);
            hub_.publish(api::EventType::kTx, data, std::move(addresses));
            return;
        }
        case Kind::kBlockRejected:
            return;  // not a stream event (the log and /metrics have it)
    }
}

void EventFeed::convert_peer(const PeerItem& item) {
    const auto& p = item.info;
    json::object data;
    data["event"] = item.connected ? "connected" : "disconnected";
    data["id"] = p.id;
    data["address"] = p.address;
    data["direction"] =
        p.direction == net::peer_manager::Direction::kOutbound ? "outbound" : "inbound";
    data["transport"] = p.transport == net::wire::kAddrTcp ? "tcp" : "ws";
    data["userAgent"] = p.user_agent;
    hub_.publish(api::EventType::kPeer, data);
}

void EventFeed::convert_sync(const SyncReport& r) {
    json::object data;
    data["headersHeight"] = r.headers_height;
    data["blocksHeight"] = r.blocks_height;
    data["blocksPerSecond"] = std::round(r.blocks_per_second * 10) / 10;
    if (r.eta_seconds) {
        data["etaSeconds"] = *r.eta_seconds;
    } else {
        data["etaSeconds"] = nullptr;
    }
    data["progress"] = std::round(r.progress * 10000) / 10000;
    data["syncing"] = r.syncing;
    hub_.publish(api::EventType::kSync, data);
}

}  // namespace peerchain::node
