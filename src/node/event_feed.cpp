#include "node/event_feed.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <iterator>
#include <set>
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

// The addresses `keys` name, each once, in order.
std::vector<std::string> addresses_of(const std::vector<core::XOnlyKey>& keys,
                                      const core::Params& params) {
    std::vector<std::string> out;
    std::set<core::XOnlyKey> seen;
    for (const auto& key : keys) {
        if (seen.insert(key).second) out.push_back(core::encode_address(key, params));
    }
    return out;
}

// A connected block's `block` fields, written when a client first reads them: during a
// sync thousands of these a second leave the ring unread.
class BlockFields final : public api::LazyFields {
  public:
    BlockFields(const chain::ChainEvent& e, const core::Block& block)
        : hash_(e.hash),
          prev_(block.header.prev_hash),
          height_(e.height),
          time_(block.header.time),
          tx_count_(block.txs.size()),
          size_(e.size != 0 ? e.size : block.serialized_size()) {}

    void render(std::string& out, const std::vector<std::string>&) const override {
        // Hex needs no escaping: the text is written without JSON objects.
        fmt::format_to(std::back_inserter(out),
                       R"("height":{},"hash":"{}","previousHash":"{}","time":{},"txCount":{},)"
                       R"("size":{})",
                       height_, hash_.to_hex(), prev_.to_hex(), time_, tx_count_, size_);
    }
    std::size_t size_hint() const noexcept override { return 220; }

  private:
    core::Uint256 hash_;
    core::Uint256 prev_;
    std::uint32_t height_;
    std::uint32_t time_;
    std::size_t tx_count_;
    std::size_t size_;
};

// A confirmed transaction's `tx-confirmed` fields, written when a client first reads them
// (or filters on an address).
class TxConfirmedFields final : public api::LazyFields {
  public:
    TxConfirmedFields(const core::Transaction& tx, const core::Uint256& block_hash,
                      std::uint32_t height, const core::Params& params)
        : txid_(tx.txid()), block_hash_(block_hash), height_(height), params_(params) {
        keys_.reserve(tx.outputs.size());
        for (const auto& output : tx.outputs) keys_.push_back(output.recipient);
    }

    void render(std::string& out, const std::vector<std::string>& addresses) const override {
        fmt::format_to(std::back_inserter(out), R"("txid":"{}","blockHash":"{}","height":{},)",
                       txid_.to_hex(), block_hash_.to_hex(), height_);
        out += "\"addresses\":[";
        bool first = true;
        for (const auto& address : addresses) {  // bech32: no escaping needed
            if (!first) out += ',';
            first = false;
            out += '"';
            out += address;
            out += '"';
        }
        out += ']';
    }
    std::vector<std::string> addresses() const override { return addresses_of(keys_, params_); }
    std::size_t size_hint() const noexcept override { return 200 + 2 * 110 * keys_.size(); }

  private:
    core::Uint256 txid_;
    core::Uint256 block_hash_;
    std::uint32_t height_;
    const core::Params& params_;
    std::vector<core::XOnlyKey> keys_;  // every output's, in order (repeats left in)
};

}  // namespace

std::vector<std::string> EventFeed::paid(const core::Transaction& tx) {
    std::vector<std::string> out;
    std::set<core::XOnlyKey> seen;  // not a search of `out`: a transaction may pay thousands
    for (const auto& output : tx.outputs) {
        if (!seen.insert(output.recipient).second) continue;
        auto it = names_.find(output.recipient);
        if (it == names_.end()) {
            if (names_.size() >= kMaxNames) names_.clear();
            it = names_.emplace(output.recipient, core::encode_address(output.recipient, params_))
                     .first;
        }
        out.push_back(it->second);
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
        // This thread is the tap's one reader: what it takes (blocks, transactions) need
        // not stay in memory for the tap's next 10,000 events.
        auto read = tap_.take(next, kTapBatch, std::chrono::seconds(60));
        if (read.reset) {
            spdlog::warn("events: the stream fell {} chain events behind; those are not sent",
                         read.events.empty() ? 0 : read.events.front().first - next);
        }
        for (const auto& [seq, event] : read.events) convert(event);
        next = read.next;
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
            // A block and its transactions: rendered only if a client reads them.
            hub_.publish_lazy(api::EventType::kBlock, std::make_unique<BlockFields>(e, block));
            for (const auto& tx : block.txs) {
                hub_.publish_lazy(api::EventType::kTxConfirmed, std::make_unique<TxConfirmedFields>(
                                                                    tx, e.hash, e.height, params_));
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
