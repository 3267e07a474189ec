// EventFeed: turns what happens in the node into the event stream's events (GET /events,
// api/event_stream.hpp), on its own thread ("events"), so that the chain executor only
// copies a few values and never waits for a stream client.
//
// Sources, each through a seam rather than through node.cpp:
//   - the event bus's asynchronous tap (chain/event_bus.hpp), a bounded util::EventRing
//     of ChainEvent: blocks connected and disconnected, tip changes (reorgs), and the
//     memory pool's accepted transactions, which the pool reports through the bus
//     (ChainObserver::on_transaction_added) so that they stay in order with the blocks;
//   - net::peer_manager::PeerObserver: peers that complete the handshake and that go;
//   - publish_sync(): the node's SyncProgress reports, from its tick.
// Peer and sync items wait in a small bounded queue (kMaxSideItems; beyond it they are
// dropped and counted in the log) and the tap is nudged so that the thread takes them.
//
// What each source becomes (docs/API.md "Event stream"): a connected block gives `block`
// and then one `tx-confirmed` per transaction (the coinbase too); a disconnected block
// gives `block-disconnected`; a tip change whose fork is not the old tip gives `reorg`
// after the reorganisation's `block-disconnected` and `block` events; an accepted
// transaction gives `tx`; a peer gives `peer`; a sync report gives `sync`. If the thread
// ever falls more than the tap behind, the lost chain events are logged as a warning.
//
// Ownership: node/ owns it; the tap and the hub must outlive it.
// Thread-safety: the observer calls and publish_sync() from any thread; start() and stop()
// from the owning thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "api/event_stream.hpp"
#include "chain/event_bus.hpp"
#include "core/params.hpp"
#include "core/transaction.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "node/sync_progress.hpp"
#include "util/event_ring.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::node {

class EventFeed final : public net::peer_manager::PeerObserver {
  public:
    static constexpr std::size_t kMaxSideItems = 1000;

    EventFeed(util::EventRing<chain::ChainEvent>& tap, api::EventHub& hub,
              const core::Params& params);
    ~EventFeed() override;  // stop()s
    EventFeed(const EventFeed&) = delete;
    EventFeed& operator=(const EventFeed&) = delete;

    // Follows the tap from its next event on.
    void start();
    // Takes what is still queued, then ends the thread. Closes the tap.
    void stop();

    void on_peer_ready(const net::peer_manager::PeerInfo& peer) override;
    void on_peer_gone(const net::peer_manager::PeerInfo& peer) override;
    void publish_sync(const SyncReport& report);

    // One tap event into the hub (what the thread does; public for tests).
    void convert(const chain::ChainEvent& event);

  private:
    struct PeerItem {
        bool connected = false;
        net::peer_manager::PeerInfo info;
    };
    using SideItem = std::variant<PeerItem, SyncReport>;

    void run();
    void push_side(SideItem item);
    void drain_side();
    void convert_peer(const PeerItem& item);
    void convert_sync(const SyncReport& report);
    // The addresses `tx`'s outputs pay, each once, in output order (a `tx` event's), their
    // bech32 text through names_: most pay keys seen before.
    std::vector<std::string> paid(const core::Transaction& tx);

    // Keys' addresses, from the thread only; emptied when it reaches kMaxNames.
    static constexpr std::size_t kMaxNames = 1024;
    std::map<core::XOnlyKey, std::string> names_;
    util::EventRing<chain::ChainEvent>& tap_;
    api::EventHub& hub_;
    const core::Params& params_;
    util::Mutex mutex_;
    std::deque<SideItem> side_ GUARDED_BY(mutex_);
    std::uint64_t side_dropped_ GUARDED_BY(mutex_) = 0;
    std::thread thread_;
};

}  // namespace peerchain::node
