// Session: one open peer link, inbound or outbound, over WebSocket or TCP, as the owner of
// a Transport sees it. It carries whole binary messages; it knows nothing of what they mean.
// Both kinds share one implementation of the send queue, the limits and the close
// reasons, so they behave alike except where a function below says otherwise.
//
// Ownership: sessions are shared_ptr objects. The transport keeps a session alive while its
// connection is open; a holder may keep the object longer, but once closed it only answers
// its accessors and refuses sends.
//
// Thread-safety: every member function may be called from any thread, concurrently. The
// accessors return values fixed at construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "net/transport/peer_url.hpp"
#include "util/bytes.hpp"

namespace peerchain::net::transport {

// Unique among the sessions of one Transport, never reused, never 0.
using SessionId = std::uint64_t;

enum class Direction {
    kInbound,   // the peer connected to our listener
    kOutbound,  // we dialed the peer
};

// "inbound" or "outbound".
const char* direction_name(Direction direction) noexcept;

class Session {
  public:
    virtual ~Session() = default;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    SessionId id() const noexcept { return id_; }
    Direction direction() const noexcept { return direction_; }
    // How the link frames messages: Scheme::kWebSocket or Scheme::kTcp (PROTOCOL.md
    // section 2). For an inbound session, the one its first bytes chose.
    Scheme transport() const noexcept { return transport_; }
    // The peer's socket address, "1.2.3.4:5678" or "[::1]:5678". For an inbound session
    // the port is the peer's ephemeral port, not its listening port.
    const std::string& remote_address() const noexcept { return remote_address_; }
    // Our end of the link, "1.2.3.4:5678" or "[::1]:5678": for an inbound session the
    // address the peer reached us at, for an outbound one the address our side used (the
    // host we are known by on that network). Empty if the system could not tell.
    const std::string& local_address() const noexcept { return local_address_; }
    // For an outbound session the URL exactly as given to Transport::dial; empty for
    // inbound.
    const std::string& url() const noexcept { return url_; }

    // Queues payload to go out as one binary message, after the ones queued before it.
    // Returns false, and queues nothing, when the session is closing or closed, when
    // payload is null, when it is larger than Limits::max_message_size, or when it is
    // empty on a TCP session (a frame carries 1 byte or more); the session stays open.
    // When the queue, each message counted as held_bytes() (limits.hpp), would exceed
    // Limits::max_send_queue_bytes, the session is closed as too slow and false is
    // returned. A true return does not promise delivery: the link may still fail before
    // the bytes are written.
    virtual bool send(std::shared_ptr<const util::Bytes> payload) = 0;

    // Closes the link; unsent messages are dropped. On WebSocket it starts a close with
    // code 1000 and reason (cut to the 123 bytes a close frame holds). TCP has no close
    // frame: the socket is shut down at once and the reason goes only to on_close and the
    // log. Does nothing if already closing. The handler's on_close follows once the link
    // is down, with reason. Never fails.
    virtual void close(std::string reason) = 0;

    // Closes the socket at once, without a closing handshake (WebSocket close frames wait
    // for the peer's answer, which a peer can hold back for the handshake timeout): for a
    // peer that is making room for another, whose slot must come back now. The handler's
    // on_close follows with reason. Never fails.
    virtual void abort(std::string reason) = 0;

    // False once close() was called or the link started to go down.
    virtual bool is_open() const noexcept = 0;

    // What is queued to go out and not yet written, counted as held_bytes(): how far the
    // peer is behind in reading what we send.
    virtual std::size_t queued_bytes() const noexcept = 0;

    // Calls `callback` once, on the session's strand, when queued_bytes() has fallen to
    // `below` or less (soon, if it is already): a sender that paused for a slow reader
    // learns when to go on. A later call replaces a wish that has not fired; none fires
    // once the session is down.
    virtual void when_drained(std::size_t below, std::function<void()> callback) = 0;

    // Backpressure on what the peer sends, for an owner whose queue of received messages
    // is full: after pause_reading(), once the message being handed over (if any) has
    // been, no on_message comes until resume_reading(). What the peer sends meanwhile
    // waits in the socket buffers, and TCP's flow control slows the peer down: the peer
    // waits instead of being dropped (Bitcoin Core pauses a peer's receive the same way).
    // The idle timeout does not run while reading is paused, as the quiet is ours. A
    // resume without a pause does nothing. The owner must order its own calls: a resume
    // that races a pause from another thread may lose to it.
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;

  protected:
    Session(SessionId id, Direction direction, Scheme transport, std::string remote_address,
            std::string local_address, std::string url)
        : id_(id),
          direction_(direction),
          transport_(transport),
          remote_address_(std::move(remote_address)),
          local_address_(std::move(local_address)),
          url_(std::move(url)) {}

  private:
    const SessionId id_;
    const Direction direction_;
    const Scheme transport_;
    const std::string remote_address_;
    const std::string local_address_;
    const std::string url_;
};

}  // namespace peerchain::net::transport
