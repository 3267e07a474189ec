// PeerSender: how the peer manager reaches the network without knowing sockets. node/
// implements it on top of the transport (one PeerId per transport session); tests
// implement it in memory.
//
// Thread-safety and rules for implementers: the peer manager calls these on the chain
// executor. They must not block and must not call back into the PeerManager before
// returning: queue the bytes, start the close, and report the end of the link later with
// PeerManager::on_peer_disconnected (posted to the chain executor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "util/bytes.hpp"

namespace peerchain::net::peer_manager {

// Chosen by node/ (the transport's session id); unique for the life of the process.
using PeerId = std::uint64_t;

enum class Direction {
    kInbound,   // the peer connected to us
    kOutbound,  // we dialed the peer
};

// "inbound" or "outbound".
const char* direction_name(Direction direction) noexcept;

struct ConnectionInfo {
    Direction direction = Direction::kInbound;
    // The remote socket address, "1.2.3.4:5678" or "[::1]:5678". For an inbound peer the
    // port is its ephemeral port, not the one it listens on.
    std::string address;
    // The URL we dialed, for an outbound peer; empty for inbound.
    std::string url;
    // Our end of the link ("1.2.3.4:5678"): the address the peer reaches us at (inbound) or
    // the one our side used (outbound), which we advertise as ours. May be empty.
    std::string local_address;
    // The link's transport, as the addrv2 bits: wire::kAddrWebSocket (1) or kAddrTcp (2).
    std::uint8_t transport = 1;
};

class PeerSender {
  public:
    virtual ~PeerSender() = default;

    // Queues one whole wire message (type byte and payload) for the peer. Unknown or
    // closing peers drop it silently. The bytes are shared and never modified.
    virtual void send(PeerId peer, std::shared_ptr<const util::Bytes> message) = 0;

    // Closes the link to the peer; `reason` is printable text for logs and for the peer
    // (e.g. "stalling", "wrong network magic ..."). Messages already queued may or may not
    // go out. on_peer_disconnected must follow, asynchronously, even when the link was
    // already closing.
    virtual void disconnect(PeerId peer, std::string reason) = 0;

    // Bytes queued for the peer and not yet written to its link. The peer manager pauses
    // serving a peer with a large backlog (a slow link), instead of letting the queue grow
    // until the link is closed as too slow. 0 when unknown.
    virtual std::size_t queued_bytes(PeerId /*peer*/) const { return 0; }
    // Asks for PeerManager::on_send_drained(peer), on the chain executor, once the peer's
    // backlog has fallen to `below` bytes or less: serving paused for a slow link goes on
    // as soon as the link has read, not at the next tick. One wish per peer; a later one
    // replaces it. An owner whose backlog is always 0 need not do anything.
    virtual void notify_when_drained(PeerId /*peer*/, std::size_t /*below*/) {}
    // Whether the owner stopped reading from the peer because too much of what it sent
    // waits to be handled (connman's receive queue). What the peer sent meanwhile, a pong
    // or a block among it, is late by our fault: the peer manager's ping and stall clocks
    // do not run for it then.
    virtual bool reading_paused(PeerId /*peer*/) const { return false; }

    // The handshake with `peer` completed; it listens on `listen_port` (0: it does not).
    // The connection owner learns which dials succeeded and where inbound peers listen.
    virtual void peer_ready(PeerId /*peer*/, std::uint16_t /*listen_port*/) {}
    // `peer` is this node itself: our own version nonce came back over it. Its address is
    // ours; the owner should not dial it again. disconnect() follows.
    virtual void self_connection(PeerId /*peer*/) {}
};

}  // namespace peerchain::net::peer_manager
