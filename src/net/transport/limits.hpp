// Limits: the bounds a Transport puts on every peer link, checked before memory is
// allocated for what a peer sends or for what we queue to it.
//
// Thread-safety: a plain value type; a Transport keeps its own copy.
#pragma once

#include <chrono>
#include <cstddef>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::net::transport {

// What one queued message holds beyond its buffer's capacity. Counting payload bytes alone
// would let a flood of tiny messages hold many times the cap. On x86-64 with glibc a queued
// message costs: the make_shared block of shared_ptr<const Bytes> (a 16-byte control block
// and a 24-byte vector header, a 48-byte chunk), malloc's header and rounding on the
// vector's buffer (up to 31 bytes for a tiny one), the 16-byte queue slot, and the handler
// that carries it to the session's strand while it waits there. Rounded up to 128.
inline constexpr std::size_t kQueuedMessageOverhead = 128;

// The memory payload holds while it waits in a queue: its capacity plus
// kQueuedMessageOverhead. Each session's send queue is counted this way against
// Limits::max_send_queue_bytes; an owner that queues received messages for processing
// should count them the same way, so that its bound holds for tiny messages too.
inline std::size_t held_bytes(const util::Bytes& payload) noexcept {
    return payload.capacity() + kQueuedMessageOverhead;
}

// "GET " (0x47 0x45 0x54 0x20), how every WebSocket client starts, read as the u32
// little-endian length prefix a TCP peer starts with: 542,393,671. While max_message_size
// stays below it, the first 4 bytes of an inbound connection are never both.
inline constexpr std::size_t kGetAsFrameLength = 0x20544547;

struct Limits {
    // Which transports the listener accepts and dial() uses. Both share the one listening
    // port: the first bytes of an inbound connection tell them apart (see Transport). A
    // node that speaks both is reachable by either kind of peer. With one disabled, inbound
    // connections of that kind are closed at once and dials of that scheme are refused.
    bool websocket = true;  // ws://, one message per binary WebSocket frame
    bool tcp = true;        // tcp://, length-prefixed frames

    // Largest message accepted from a peer, and largest one we agree to send. Enforced by
    // the WebSocket reader from each frame header and by the TCP reader from each length
    // prefix, before the payload is read; a bigger message closes the session ("message
    // too big: ...", and close code 1009 on WebSocket).
    std::size_t max_message_size = 8 * 1024 * 1024;

    // Memory queued for one session and not yet written to the socket, each message counted
    // as held_bytes(). A send that would go over closes the session as too slow instead of
    // letting the queue grow.
    std::size_t max_send_queue_bytes = 32 * 1024 * 1024;

    // Bounds the TCP connect of a dial, the wait for the first 4 bytes of an inbound
    // connection (which tell WebSocket from TCP), the WebSocket upgrade (HTTP request and
    // response) in either direction, and the WebSocket closing handshake.
    std::chrono::milliseconds handshake_timeout{10'000};

    // A session that receives nothing for this long is closed. On WebSocket, keep-alive
    // pings go out at half of it, so a quiet but live peer stays connected; TCP has no
    // keep-alive frames, and there the P2P ping (every 30 s) keeps an honest link alive.
    // 0 disables the timeout. The default is Beast's suggested server setting.
    std::chrono::milliseconds idle_timeout{300'000};

    // Sessions per direction, counted from the moment the TCP connection exists (an
    // inbound connection whose first bytes are awaited, and an upgrade in progress,
    // count). An inbound connection over the limit is closed at once; a dial over the
    // limit is refused.
    std::size_t max_inbound = 64;
    std::size_t max_outbound = 16;

    // Fails with Errc::kInvalidArgument, naming the field, when max_message_size or
    // handshake_timeout is zero, idle_timeout is negative, the send queue cannot hold one
    // message of the maximum size (with its kQueuedMessageOverhead), both connection
    // counts are zero, both transports are disabled, or tcp is enabled with a
    // max_message_size of kGetAsFrameLength or more.
    util::Result<void> validate() const;
};

}  // namespace peerchain::net::transport
