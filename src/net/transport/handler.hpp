// Handler: the interface through which a Transport reports to its owner (the peer
// manager, wired by node/). The transport declares it so that it never calls upward into
// a module above it.
//
// Thread-safety and rules for implementers:
// - Calls come from the I/O threads running the io_context, concurrently for different
//   sessions. For one session they never overlap and come in order: on_open, then
//   on_message for each message as received, then on_close exactly once (only for a
//   session that got on_open).
// - A handler must not block: no disk, no waiting on locks held across slow work, no
//   waiting for another handler call. While on_message runs, the session reads nothing
//   more. Post real work elsewhere (DESIGN.md section 7).
// - A handler may call any Session or Transport function, including Transport::stop().
//   on_close may then run inside that stop() call, on the same thread.
// - An exception thrown by a handler is caught and logged, and the session closed.
// - After Transport::stop() returns, no call starts.
#pragma once

#include <memory>
#include <string>

#include "net/transport/session.hpp"
#include "util/bytes.hpp"

namespace peerchain::net::transport {

class Handler {
  public:
    virtual ~Handler() = default;

    // A session can send and receive: a WebSocket session once its upgrade finished, an
    // outbound TCP session as soon as it is connected, an inbound TCP session once its
    // first length prefix arrived (before the message itself).
    virtual void on_open(std::shared_ptr<Session> session) = 0;

    // One whole binary message from the peer, at most Limits::max_message_size bytes.
    virtual void on_message(std::shared_ptr<Session> session, util::Bytes payload) = 0;

    // A session that got on_open is gone. reason is printable ASCII meant for logs, e.g.
    // "closed by peer (1000: bye)", "connection closed by peer", "message too big: ...",
    // "empty frame", "timed out", "too slow: ...", "transport stopped".
    virtual void on_close(SessionId id, std::string reason) = 0;

    // A dial started by Transport::dial could not produce an open session: the name did not
    // resolve, the connection was refused or timed out, or (ws:// only) the upgrade failed
    // or the peer closed at once (e.g. it is full). A tcp:// session opens when the
    // connection is made, so a peer that refuses it after that shows as on_open, then
    // on_close. url is the text given to dial(). No on_open or on_close is called for it.
    virtual void on_dial_failed(std::string url, std::string reason) = 0;
};

}  // namespace peerchain::net::transport
