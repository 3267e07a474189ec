// ConnMan: the node's connections to its peers (Bitcoin Core's CConnman, btcd's connmgr).
// It owns the transport (the listening port, dials, sessions), keeps the table of open
// sessions, bounds what each peer may have waiting for the chain executor, and connects the
// transport to the peer manager: session events become PeerManager calls posted to the
// chain executor, and the peer manager's sends and disconnects reach the sessions.
//
//   Transport (I/O threads) --Handler--> ConnMan --post--> chain executor: PeerManager
//   PeerManager (chain executor) --PeerSender--> ConnMan --> Session send queue
//
// Ownership: node/ owns it. The io_context and the executor must outlive it; the
// PeerManager given to start() must outlive stop().
//
// Thread-safety: every public function may be called from any thread. The transport calls
// the Handler functions on I/O threads; the peer manager calls the PeerSender functions on
// the chain executor. The session table sits beside its mutex, which is never held across
// a call into the transport or the peer manager.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "net/peer_manager/peer_manager.hpp"
#include "net/peer_manager/peer_sender.hpp"
#include "net/transport/handler.hpp"
#include "net/transport/limits.hpp"
#include "net/transport/session.hpp"
#include "net/transport/transport.hpp"
#include "util/executor.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace peerchain::net::connman {

struct Config {
    // Where peers connect to us: an IP literal and a port (0: any free port).
    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 6001;
    transport::Limits limits;
    // What one peer may have waiting on the chain executor (its messages not yet handled,
    // counted as the memory they hold) before it is dropped as flooding.
    std::size_t max_pending_bytes_per_peer = 64u << 20;
};

class ConnMan final : public transport::Handler, public peer_manager::PeerSender {
  public:
    ConnMan(boost::asio::io_context& io, util::SerialExecutor& executor, Config config);
    ~ConnMan() override;  // stop()s
    ConnMan(const ConnMan&) = delete;
    ConnMan& operator=(const ConnMan&) = delete;

    // Binds the P2P port and starts accepting peers; their events go to `peers` on the
    // chain executor. Fails with the transport's error (kIo "Address already in use", ...).
    util::Result<void> start(peer_manager::PeerManager& peers);
    // Closes every session and the listener; reports the sessions gone to the peer manager
    // (posted to the executor, which may already refuse them). Safe to call twice.
    void stop();

    // The bound P2P port once started, else 0.
    std::uint16_t listen_port() const noexcept;

    // Dials `url` ("ws://host:port"). Fails with kInvalidArgument for a bad URL,
    // kUnavailable when the address is discouraged, the outbound limit is reached, or the
    // node is stopping.
    util::Result<void> add_peer(const std::string& url);

    // Open sessions, by direction.
    std::size_t session_count() const;

    // --- transport::Handler (I/O threads) ---
    void on_open(std::shared_ptr<transport::Session> session) override;
    void on_message(std::shared_ptr<transport::Session> session, util::Bytes payload) override;
    void on_close(transport::SessionId id, std::string reason) override;
    void on_dial_failed(std::string url, std::string reason) override;

    // --- peer_manager::PeerSender (chain executor) ---
    void send(peer_manager::PeerId id, std::shared_ptr<const util::Bytes> message) override;
    void disconnect(peer_manager::PeerId id, std::string reason) override;

  private:
    struct SessionEntry {
        std::shared_ptr<transport::Session> session;
        // Bytes of its messages waiting on the chain executor.
        std::shared_ptr<std::atomic<std::size_t>> pending;
    };

    std::shared_ptr<transport::Session> session(peer_manager::PeerId id) const;

    boost::asio::io_context& io_;
    util::SerialExecutor& executor_;
    const Config config_;
    std::unique_ptr<transport::Transport> transport_;
    std::atomic<peer_manager::PeerManager*> peers_{nullptr};

    mutable util::Mutex mutex_;
    std::unordered_map<transport::SessionId, SessionEntry> sessions_ GUARDED_BY(mutex_);
};

}  // namespace peerchain::net::connman
