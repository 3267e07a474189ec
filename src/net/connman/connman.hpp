// ConnMan: the node's connections to its peers (Bitcoin Core's CConnman, btcd's connmgr).
// It owns the transport (one P2P port for WebSocket and TCP), the address book and the ban
// list, keeps the table of open sessions, pauses reading from a peer whose messages wait
// for the chain executor beyond its receive buffer (receive_queue.hpp), and connects the transport
// to the peer manager: session events become PeerManager calls posted to the chain executor, and
// the peer manager's sends and disconnects reach the sessions.
//
//   Transport (I/O threads) --Handler--> ConnMan --post--> chain executor: PeerManager
//   PeerManager (chain executor) --PeerSender--> ConnMan --> Session send queue
//
// Outbound: manual peers (--peers, PEERS, POST /addPeer) are kept: redialed whenever they
// are not connected, with a backoff from 1 s doubling to 5 minutes (with jitter), saved
// in <data-dir>/manual-peers. Besides them, max_outbound peers are dialed from the address
// book, at most one per address group (loopback and private addresses are grouped by host
// and port, so that a local network of many nodes works); when one goes, another is dialed
// on the next tick. A dial that fails counts against the address in the book; a handshake
// moves it to the book's tried table.
//
// Inbound: at most max_inbound open sessions, and max_inbound_per_group peers of one
// address group (known once the peer's version gives its listening port). A newcomer
// beyond the cap evicts an inbound peer chosen as Bitcoin Core does (eviction.hpp), or is
// refused when every one is protected. Outbound peers are never evicted for an inbound one.
//
// Persistence (in data_dir, when set): the book in peers.dat (loaded at start, saved every
// 15 minutes and at stop), the bans in banlist.dat (BanMan writes it on each change), the
// manual peers in manual-peers (one URL per line, written on each change).
//
// Ownership: node/ owns it. The io_context, the executor and the clock must outlive it; the
// PeerManager given to start() must outlive stop().
//
// Thread-safety: every public function may be called from any thread. The transport calls
// the Handler functions on I/O threads, the peer manager the PeerSender functions on the
// chain executor, node/ on_tick() from its ticker thread. The tables sit beside one mutex,
// which is never held across a call into the transport, the peer manager or the book.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "net/addrman/addr_man.hpp"
#include "net/addrman/ban_man.hpp"
#include "net/connman/receive_queue.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "net/peer_manager/peer_sender.hpp"
#include "net/transport/handler.hpp"
#include "net/transport/limits.hpp"
#include "net/transport/peer_url.hpp"
#include "net/transport/session.hpp"
#include "net/transport/transport.hpp"
#include "util/clock.hpp"
#include "util/executor.hpp"
#include "util/metrics.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace peerchain::net::connman {

// Manual peers kept at most (each is dialed forever).
inline constexpr std::size_t kMaxManualPeers = 128;

struct Config {
    // Where peers connect to us: an IP literal and a port (0: any free port).
    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 6001;
    // Which transports we accept and dial (both by default).
    bool websocket = true;
    bool tcp = true;
    // Automatic outbound peers from the address book (manual peers come on top).
    std::size_t max_outbound = 8;
    // Open inbound sessions, and inbound peers of one address group.
    std::size_t max_inbound = 64;
    std::size_t max_inbound_per_group = 8;
    // What one peer may have waiting on the chain executor (its messages not yet handled,
    // counted as the memory they hold: transport::held_bytes) before reading from it
    // pauses; it resumes at half (ReceiveQueue). A peer's queue holds at most this plus
    // one message.
    std::size_t receive_buffer_bytes = 16u << 20;
    // Redial backoff of a manual peer: from min, doubling on each failure, up to max.
    std::chrono::seconds min_backoff{1};
    std::chrono::seconds max_backoff{300};
    // peers.dat, banlist.dat and manual-peers go here; empty: nothing is saved.
    std::filesystem::path data_dir;
    std::chrono::seconds book_save_interval{15 * 60};
    addrman::AddrManConfig book;
    addrman::BanManConfig bans;  // its path is set from data_dir
    // Message size, queue and timeout limits of the transport; its connection counts are
    // derived from the caps above.
    transport::Limits limits;
    // When set, counts the bytes of every message received and sent by message type
    // (peerchain_p2p_bytes_total); it must outlive the ConnMan.
    util::metrics::Registry* metrics = nullptr;
};

// A manual peer as the API shows it.
struct ManualPeer {
    std::string url;
    bool connected = false;
    std::int64_t next_attempt = 0;  // seconds; 0 while connected or dialing
    int failures = 0;
};

class ConnMan final : public transport::Handler, public peer_manager::PeerSender {
  public:
    ConnMan(boost::asio::io_context& io, util::SerialExecutor& executor, const util::Clock& clock,
            Config config);
    ~ConnMan() override;  // stop()s
    ConnMan(const ConnMan&) = delete;
    ConnMan& operator=(const ConnMan&) = delete;

    // For the peer manager, which records what peers tell it there.
    addrman::AddrMan& book() noexcept { return book_; }
    addrman::BanMan& bans() noexcept { return bans_; }

    // Loads the book, the bans and the manual peers (a file that does not check is
    // logged and set aside: the node starts without it), binds the P2P port and starts
    // accepting peers, whose events go to `peers` on the chain executor. Fails with the
    // transport's error (kIo "Address already in use", ...).
    util::Result<void> start(peer_manager::PeerManager& peers);
    // Closes every session and the listener, and saves the book. Safe to call twice.
    void stop();

    // The bound P2P port once started, else 0.
    std::uint16_t listen_port() const noexcept;

    // Makes `url` ("ws://host:port", "tcp://host:port") a manual peer and dials it at once.
    // Ok too when it is one already. kInvalidArgument for a bad URL or a transport this
    // node does not speak; kUnavailable when it is banned or discouraged, when there are
    // kMaxManualPeers already, or when stopping.
    util::Result<void> add_peer(const std::string& url);
    // Forgets a manual peer and disconnects every peer at that address. `address` is a URL
    // or "host:port". kInvalidArgument for neither; kNotFound when nothing matched.
    util::Result<void> remove_peer(const std::string& address);
    std::vector<ManualPeer> manual_peers() const;
    // Whether session `id` is a manual peer's.
    bool is_manual(peer_manager::PeerId id) const;

    // Bans `address` ("host" or "host:port") for `seconds` and disconnects the peers it
    // names. Errors as BanMan::ban (the ban holds even when kIo says it was not saved).
    util::Result<addrman::BanEntry> ban(const std::string& address, std::int64_t seconds);
    // BanMan::unban.
    util::Result<bool> unban(const std::string& address);

    // About once a second (node/'s ticker): dials manual peers that are due and automatic
    // ones while below max_outbound, and saves the book when it is time.
    void on_tick();

    // --- transport::Handler (I/O threads) ---
    void on_open(std::shared_ptr<transport::Session> session) override;
    void on_message(std::shared_ptr<transport::Session> session, util::Bytes payload) override;
    void on_close(transport::SessionId id, std::string reason) override;
    void on_dial_failed(std::string url, std::string reason) override;

    // --- peer_manager::PeerSender (chain executor) ---
    void send(peer_manager::PeerId id, std::shared_ptr<const util::Bytes> message) override;
    void disconnect(peer_manager::PeerId id, std::string reason) override;
    std::size_t queued_bytes(peer_manager::PeerId id) const override;
    void notify_when_drained(peer_manager::PeerId id, std::size_t below) override;
    bool reading_paused(peer_manager::PeerId id) const override;
    void peer_ready(peer_manager::PeerId id, std::uint16_t listen_port) override;
    void self_connection(peer_manager::PeerId id) override;

  private:
    // Message type bytes 1..16 (net/wire/message.hpp), and 0 for any other.
    static constexpr std::size_t kMessageTypes = 17;

    // An outbound connection, dialing or open.
    struct Outbound {
        bool manual = false;
        std::string url;                             // as dialed (canonical)
        std::optional<addrman::NetAddress> address;  // in the book's terms
        std::string group;                           // "" for a manual peer
        bool ready = false;                          // handshake completed
    };
    struct Inbound {
        std::int64_t connected_at = 0;
        std::string host;
        std::string group;  // by listening port once ready, else "inbound:<host>"
        bool ready = false;
    };
    struct Manual {
        transport::PeerUrl url;
        int failures = 0;
        std::int64_t next_attempt = 0;
        bool self = false;  // it turned out to be this node
    };
    struct SessionEntry {
        std::shared_ptr<transport::Session> session;
        // Its messages waiting on the chain executor, and the pause on its reading.
        std::shared_ptr<ReceiveQueue> queue;
    };

    std::shared_ptr<transport::Session> session(transport::SessionId id) const;
    // The queue of a new session's messages, which pauses its reading when full.
    std::shared_ptr<ReceiveQueue> make_receive_queue(
        const std::shared_ptr<transport::Session>& session);
    std::int64_t now() const { return clock_.now_seconds(); }
    // The next attempt after `failures` failures: min_backoff doubled, capped, +-25%.
    std::int64_t backoff(int failures) REQUIRES(mutex_);
    bool connected_or_dialing(const std::string& url) const REQUIRES(mutex_);
    bool refused(const std::string& host, std::uint16_t port) const;
    void dial(const std::string& url);
    // An automatic address to dial now, if the book has one that fits.
    std::optional<Outbound> pick_outbound();
    // The inbound peer to close for a newcomer (`newcomer` excluded), if any.
    std::optional<transport::SessionId> pick_eviction(transport::SessionId newcomer);
    void outbound_failed(Outbound outbound, const std::string& reason);
    void load_manual_peers();
    void save_manual_peers() const;
    void save_book() const;
    std::uint8_t transports() const noexcept;

    boost::asio::io_context& io_;
    util::SerialExecutor& executor_;
    const util::Clock& clock_;
    Config config_;
    addrman::AddrMan book_;
    addrman::BanMan bans_;
    std::array<std::uint8_t, 32> eviction_key_{};
    std::unique_ptr<transport::Transport> transport_;
    std::atomic<peer_manager::PeerManager*> peers_{nullptr};
    std::atomic<std::int64_t> next_book_save_{0};
    std::atomic<bool> stopped_{false};

    mutable util::Mutex mutex_;
    std::map<transport::SessionId, SessionEntry> sessions_ GUARDED_BY(mutex_);
    std::map<std::string, Outbound> dialing_ GUARDED_BY(mutex_);  // by URL
    std::map<transport::SessionId, Outbound> outbound_ GUARDED_BY(mutex_);
    std::map<transport::SessionId, Inbound> inbound_ GUARDED_BY(mutex_);
    std::map<std::string, Manual> manual_ GUARDED_BY(mutex_);  // by canonical URL
    // Our own addresses ("host:port"), learned from connections to ourselves.
    std::set<std::string> self_ GUARDED_BY(mutex_);
    // The hosts our end of each link had: with our listening port, ourselves.
    std::set<std::string> local_hosts_ GUARDED_BY(mutex_);
    std::mt19937_64 rng_ GUARDED_BY(mutex_);
    // Byte counters by message type byte (0: a type we do not know), or null without
    // metrics. Set in the constructor.
    std::array<util::metrics::Counter*, kMessageTypes> bytes_in_{};
    std::array<util::metrics::Counter*, kMessageTypes> bytes_out_{};
    util::metrics::Counter* receive_pauses_ = nullptr;
    static void count(std::array<util::metrics::Counter*, kMessageTypes>& counters,
                      const util::Bytes& message) noexcept;
    mutable util::Mutex save_mutex_;  // one writer of manual-peers at a time
};

}  // namespace peerchain::net::connman
