// PeerManager: the P2P protocol above the byte links (docs/PROTOCOL.md, DESIGN.md
// section 5). It runs the version/verack handshake, keeps peers alive with pings,
// syncs headers first and then fetches blocks in a moving window from several peers,
// serves headers and blocks, and announces new tips. It relays transactions through the
// memory pool (inv, getdata, tx, notfound, mempool), holds orphans until their parents
// come, gossips addresses into the address book, and disconnects peers that send
// consensus-invalid data, discouraging their address unless it is a local one. It owns no
// sockets: net/connman feeds it connection events and whole messages, and it answers
// through a PeerSender.
//
// Inside, as in Bitcoin Core's net_processing: PeerManager handles the handshake,
// keep-alive, serving and misbehaviour; HeaderSync (header_sync.hpp) the headers and
// announcements; BlockDownloader (block_download.hpp) the block requests; BlockIntake
// (block_intake.hpp) the blocks peers send, keeping those from the future; TxRelay
// (tx_relay.hpp) the transactions; AddrRelay (addr_relay.hpp) the addresses. They share
// the peers through PeerContext (peer.hpp).
//
// Ownership: node/ owns it. The Chainstate, Mempool, PeerSender, address book, ban list
// and Clock must outlive it.
//
// Thread-safety: every on_* call, and relay_transaction, must come from the node's chain
// executor (the thread that mutates the Chainstate and the Mempool, which the PeerManager
// calls directly). They never throw: a malformed or misbehaving peer is disconnected with
// a reason, and an unexpected failure while handling one message drops that peer and is
// logged. peers(), peer_count(), handshaken_peer_count() and relay_info() may be called
// from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/block_index.hpp"
#include "chain/chain_observer.hpp"
#include "chain/chainstate.hpp"
#include "core/block.hpp"
#include "core/uint256.hpp"
#include "mempool/mempool.hpp"
#include "net/addrman/addr_man.hpp"
#include "net/addrman/ban_man.hpp"
#include "net/peer_manager/peer_sender.hpp"
#include "net/peer_manager/prepared_message.hpp"
#include "util/bytes.hpp"
#include "util/clock.hpp"

namespace peerchain::net::peer_manager {

// Tunables; the defaults follow Bitcoin Core where it has an equivalent. Counts below 1
// (batch, in flight, window, announce) are raised to 1, and the headers batch is capped
// at wire::kMaxHeaders.
struct Config {
    // Sent in our version message.
    std::string user_agent = "/peerchain:0.1.0/";
    // The port we accept peers on, for getaddr answers of other nodes; 0 = not listening.
    std::uint16_t listen_port = 0;

    // A peer that has not completed version/verack this long after connecting is dropped.
    std::chrono::seconds handshake_timeout{10};
    // A ping goes out this long after the last pong (and right after the handshake).
    std::chrono::seconds ping_interval{30};
    // A peer that leaves a ping unanswered this long is dropped.
    std::chrono::seconds ping_timeout{60};
    // A getheaders left unanswered this long may be repeated.
    std::chrono::seconds getheaders_timeout{60};

    // Headers sent per getheaders answer (at most wire::kMaxHeaders). A headers message of
    // this many (or more) from a peer is taken as a full batch: we ask for the next one.
    std::size_t max_headers_per_message = 2000;
    // Blocks requested from one peer and not yet received (Bitcoin: 16). Requests go out
    // once a sixteenth of these slots is free (or none is in flight), not slot by slot.
    std::size_t max_blocks_in_flight = 16;
    // Blocks are requested at most this far past the last block we share with the
    // active chain (Bitcoin: 1024), so a peer cannot fill memory with far-ahead blocks.
    std::uint32_t block_download_window = 1024;
    // A peer with blocks in flight that delivers none of them for this long is dropped as
    // stalling; its blocks are requested from others.
    std::chrono::seconds block_stall_timeout{60};

    // Block entries a peer may have waiting to be served (its getdata requests, queued);
    // a getdata that would go over disconnects it. Honest peers stay within
    // max_blocks_in_flight.
    std::size_t max_getdata_blocks = 1024;
    // Bytes of headers, blocks and transactions served to one peer per tick (the rest of
    // its requests wait for the next on_tick), and the backlog of its link above which
    // serving it pauses until it has read more: what we queue for a peer that reads slowly
    // stays bounded without dropping it.
    std::size_t serve_bytes_per_tick = 64u << 20;
    std::size_t max_send_backlog = 4u << 20;
    // A new tip is announced with the headers from what the peer knows up to the tip when
    // that is at most this many, else with the tip header alone.
    std::size_t max_announce_headers = 8;
    // Headers messages that still do not connect to our tree after the getheaders they
    // prompted was answered, before the peer is dropped as misbehaving. Headers that arrive
    // while such a getheaders is on its way never count (an announcement sent before the
    // peer saw our request, e.g. during its reorg).
    int max_unconnecting_headers = 10;
    // Blocks refused as too far in the future (time-too-new) are kept, for all peers
    // together, up to this count and these serialized bytes, and processed again when our
    // clock reaches them; only those acceptable within max_future_wait are kept. A headers
    // batch that stops at such a header is asked for again then, within the same wait.
    std::size_t max_future_blocks = 16;
    std::size_t max_future_block_bytes = 8u << 20;
    std::chrono::seconds max_future_wait{10 * 60};
    // Seeds the generator of nonces and orphan eviction; 0 takes one from the system.
    // Fixed only where runs must repeat (fuzzing, tests): predictable nonces would let a
    // peer forge our self-connection check.
    std::uint64_t rng_seed = 0;

    // --- Transaction relay (docs/PROTOCOL.md, "Transaction relay") ---
    // Transaction announcements kept per peer, requested or not; more are ignored.
    std::size_t max_tx_announcements = 5000;
    // Transactions requested from one peer and not yet received, and from all peers.
    std::size_t max_tx_in_flight_per_peer = 100;
    std::size_t max_tx_in_flight = 1000;
    // A transaction request left unanswered this long may go to another peer that
    // announced it.
    std::chrono::seconds tx_request_timeout{60};
    // Transactions a peer may send without being asked, per minute; more are ignored.
    std::size_t unsolicited_tx_allowance = 10;
    // Transactions remembered per peer as known to it (announced by it, sent or announced
    // to it): never announced to it again while remembered.
    std::size_t max_known_txs = 20'000;
    // Transactions refused for policy (fee, full pool, conflict), not fetched again until
    // the tip changes.
    std::size_t max_recent_rejects = 50'000;
    // Transactions of recently connected blocks, not fetched again.
    std::size_t max_recent_confirmed = 50'000;
    // Orphans (transactions whose parents we lack) held at once, and for how long.
    std::size_t max_orphans = 100;
    std::chrono::seconds orphan_expiry{20 * 60};
    // Transaction entries a peer may have waiting to be served (its getdata requests,
    // queued); a getdata that would go over disconnects it.
    std::size_t max_getdata_txs = 5000;
    // A peer's `mempool` request is answered at most once per this interval.
    std::chrono::seconds mempool_answer_interval{10};

    // --- Addresses (docs/PROTOCOL.md, "Addresses") ---
    // The transports we accept peers with (wire::kAddrWebSocket | wire::kAddrTcp), sent
    // with our own address.
    std::uint8_t transports = 3;
    // The host we advertise as ours; empty: our end of each peer's link.
    std::string external_host;
    // Each peer's addresses are processed through a token bucket (Bitcoin Core: 0.1 a
    // second, at most 1,000); asking a peer with getaddr adds 1,000 for its answer.
    double addr_rate = 0.1;
    double addr_burst = 1000;
    // Addresses remembered per peer as known to it: not sent to it again.
    std::size_t max_known_addresses = 5000;
    // Our address is advertised to each peer after the handshake and then about this often
    // (a random time between half and one and a half times it).
    std::chrono::seconds self_advertise_interval{24 * 60 * 60};
};

// What the HTTP API shows about one peer: a copy, refreshed after every message and tick.
struct PeerInfo {
    PeerId id = 0;
    std::string address;  // remote "host:port"
    std::string url;      // dialed URL (outbound)
    Direction direction = Direction::kInbound;
    bool handshake_complete = false;
    std::string user_agent;
    std::uint32_t protocol_version = 0;
    std::uint64_t services = 0;
    std::uint16_t listen_port = 0;
    std::uint32_t start_height = 0;       // best height in its version message
    std::int64_t best_known_height = -1;  // highest block it is known to have; -1 none
    std::int64_t ping_ms = -1;            // last ping round trip (steady clock); -1 before a pong
    std::int64_t connected_since = 0;     // seconds since the Unix epoch
    std::size_t blocks_in_flight = 0;
    std::size_t txs_in_flight = 0;  // transactions requested from it, not yet received
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t messages_received = 0;
    std::uint8_t transport = 1;            // wire::kAddrWebSocket or wire::kAddrTcp
    std::int64_t last_block_at = -1;       // when it last gave us a new block; -1 never
    std::int64_t last_tx_at = -1;          // when it last gave us a transaction we took
    std::uint64_t addrs_rate_limited = 0;  // addresses it sent beyond its token bucket
};

// Who hears peers come and go (the node's event feed), beside the API's polled copy.
// Called on the chain executor: an observer copies what it needs and must not block.
class PeerObserver {
  public:
    virtual ~PeerObserver() = default;
    // The version/verack handshake with a peer completed (its user agent is known).
    virtual void on_peer_ready(const PeerInfo& /*peer*/) {}
    // A peer that had completed the handshake is gone.
    virtual void on_peer_gone(const PeerInfo& /*peer*/) {}
};

// Transaction relay bookkeeping, for the API and metrics: a copy, refreshed after every
// event.
struct RelayInfo {
    std::size_t orphans = 0;           // held in the orphan pool
    std::size_t txs_in_flight = 0;     // requested from peers, not yet received
    std::size_t tx_announcements = 0;  // transactions announced to us and still wanted
    std::size_t recent_rejects = 0;    // refused, not fetched again until the tip moves
    std::uint64_t txs_accepted = 0;    // from peers, into the pool (orphans included)
    std::uint64_t txs_ignored = 0;     // unsolicited beyond the allowance
};

class PeerManager final : public chain::ChainObserver {
  public:
    // Addresses peers tell us go to `book`; misbehaving peers' hosts to `bans` (which
    // also refuses banned and discouraged peers).
    PeerManager(chain::Chainstate& chain, mempool::Mempool& mempool, PeerSender& sender,
                addrman::AddrMan& book, addrman::BanMan& bans, const util::Clock& clock,
                Config config = {});
    ~PeerManager() override;
    PeerManager(const PeerManager&) = delete;
    PeerManager& operator=(const PeerManager&) = delete;

    // --- Chain executor only -------------------------------------------------------------

    // A link is open. For an outbound peer our version goes out at once; an inbound one
    // must speak first. An id already connected is ignored (logged).
    void on_peer_connected(PeerId peer, ConnectionInfo info);
    // One whole message from the peer (wire/message.hpp). Unknown ids are ignored.
    void on_message(PeerId peer, util::ByteSpan message);
    // The link is gone (after our disconnect or the peer's). `reason` is for the log.
    // Its requested blocks go to other peers.
    void on_peer_disconnected(PeerId peer, const std::string& reason = {});
    // The peer's link has read what held its serving back (PeerSender::notify_when_drained):
    // serving goes on. Unknown ids are ignored.
    void on_send_drained(PeerId peer);
    // About once a second: timeouts, pings, stalled downloads, deferred block serving.
    // Reads the clock given to the constructor.
    void on_tick();
    // The port we accept peers on, once the listener is bound (announced in later version
    // messages).
    void set_listen_port(std::uint16_t port);
    // Who hears of peers that complete the handshake and of their going; nullptr: nobody.
    // Must outlive the PeerManager or be replaced first.
    void set_observer(PeerObserver* observer);

    // chain::ChainObserver, as the event bus's subscriber after the Mempool (which must
    // have seen each event first: a connected block's transactions are out of the pool,
    // a reorg's are back). The new tip is announced to every peer not known to have it and
    // block requests move on; a connected block's transactions leave the relay
    // bookkeeping, and orphans that spend its outputs are tried again when the tip has
    // moved.
    void on_tip_changed(const chain::BlockIndex* new_tip, const chain::BlockIndex* old_tip,
                        const chain::BlockIndex* fork) override;
    void on_block_connected(const core::BlockPtr& block, const chain::BlockIndex* index) override;

    // A transaction from this node itself (the HTTP API, the wallet), already accepted
    // into the Mempool: announced with inv to every peer not known to have it. Does
    // nothing when `txid` is not in the pool.
    void relay_transaction(const core::Uint256& txid);

    // One message, prepared by prepare() on another thread.
    void on_message(PeerId peer, PreparedMessage message);

    // --- Any thread ------------------------------------------------------------------------

    // Decodes `message` and checks a block on its own: pure, bounded by the message size
    // limits, and safe to run on the thread that read the message.
    PreparedMessage prepare(util::ByteSpan message) const;

    // Every connected peer, in id order.
    std::vector<PeerInfo> peers() const;
    // Connected peers, and those of them past the handshake.
    std::size_t peer_count() const;
    std::size_t handshaken_peer_count() const;
    RelayInfo relay_info() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace peerchain::net::peer_manager
