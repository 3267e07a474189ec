// Transport: the peer links. It listens for inbound peers, dials outbound ones, moves
// whole binary messages in both directions and enforces Limits. It knows nothing of the
// P2P protocol: what a message means is the Handler's business.
//
// Two transports carry the same messages (PROTOCOL.md section 2): WebSocket (ws://, one
// message per binary frame) and raw TCP (tcp://, a u32 length before each message).
// Limits::websocket and Limits::tcp say which ones this Transport accepts and dials. Both
// are served on the one listening port, told apart by the first 4 bytes a peer sends
// ("GET " starts every WebSocket request; a TCP length prefix never reads so): one
// address per node in gossip and in firewalls, and a node that speaks both is reachable by
// either kind of peer.
//
// Ownership: the caller owns the io_context, runs it (on one or more threads) and keeps
// it alive longer than the Transport. The Handler must stay valid until stop() returned.
// Sessions, the listener and dials share internal state, so operations still pending in
// the io_context after the Transport is destroyed are safe; they call no handler.
//
// Thread-safety: every member function may be called from any thread, including from
// inside a Handler call. Each connection runs on its own strand.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/transport/handler.hpp"
#include "net/transport/limits.hpp"
#include "net/transport/session.hpp"
#include "util/result.hpp"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace peerchain::net::transport {

namespace detail {
class TransportState;
}  // namespace detail

class Transport {
  public:
    // Nothing happens on the network until listen() or dial(). Aborts (NODE_ASSERT) if
    // limits.validate() fails: validate configured limits before building a Transport.
    Transport(boost::asio::io_context& io, Handler& handler, Limits limits = {});
    // Calls stop().
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Binds address (an IP literal: "0.0.0.0", "127.0.0.1", "::") and port (0 picks a free
    // one; see listen_port()) and starts accepting peers of each enabled transport there:
    // WebSocket upgrades on any path and TCP links. Fails with kInvalidArgument for an
    // address that is not an IP literal or a second listen(), kIo when the socket cannot be
    // bound or listened on (the message says why, e.g. "Address already in use"),
    // kUnavailable after stop().
    util::Result<void> listen(const std::string& address, std::uint16_t port);

    // The bound port once listen() succeeded, else 0.
    std::uint16_t listen_port() const noexcept;

    // Starts dialing url ("ws://host:port" or "tcp://host:port", see parse_peer_url);
    // resolution, connect and the WebSocket upgrade happen asynchronously. Success ends in
    // on_open, failure in on_dial_failed (with url as given here). Fails at once, calling
    // no handler, with kInvalidArgument for a bad URL or a scheme whose transport Limits
    // disable ("websocket transport is disabled", "tcp transport is disabled"), or
    // kUnavailable when max_outbound sessions and dials are in progress or after stop().
    util::Result<void> dial(std::string_view url);

    // Closes the listener, cancels dials and connections not yet sessions, starts closing
    // every session (WebSocket close code 1001; TCP sockets are shut down) and calls
    // on_close for each session that had on_open, before returning. Waits for handler calls
    // in progress on other threads to finish (so it blocks as long as a handler does), but
    // not for any network I/O. After it returns no handler call starts; listen() and dial()
    // fail. Safe to call more than once and from a handler.
    void stop();

    // Connections per direction, counting those still in their upgrade, inbound ones whose
    // first bytes are awaited and, for outbound, dials in progress.
    std::size_t inbound_count() const;
    std::size_t outbound_count() const;

    const Limits& limits() const noexcept;

  private:
    std::shared_ptr<detail::TransportState> state_;
    std::atomic<std::uint16_t> listen_port_{0};
};

}  // namespace peerchain::net::transport
