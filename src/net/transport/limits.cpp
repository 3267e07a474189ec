#include "net/transport/limits.hpp"

#include <string>

namespace peerchain::net::transport {

util::Result<void> Limits::validate() const {
    using util::Errc;
    using util::Unexpected;
    if (max_message_size == 0) return Unexpected(Errc::kInvalidArgument, "max_message_size is 0");
    if (max_message_size > max_send_queue_bytes ||
        max_send_queue_bytes - max_message_size < kQueuedMessageOverhead) {
        return Unexpected(Errc::kInvalidArgument,
                          "max_send_queue_bytes cannot hold one message of max_message_size (" +
                              std::to_string(kQueuedMessageOverhead) +
                              " bytes of overhead included)");
    }
    if (handshake_timeout.count() <= 0) {
        return Unexpected(Errc::kInvalidArgument, "handshake_timeout is not positive");
    }
    if (idle_timeout.count() < 0) {
        return Unexpected(Errc::kInvalidArgument, "idle_timeout is negative");
    }
    if (!websocket && !tcp) {
        return Unexpected(Errc::kInvalidArgument, "websocket and tcp are both disabled");
    }
    if (tcp && max_message_size >= kGetAsFrameLength) {
        return Unexpected(Errc::kInvalidArgument,
                          "max_message_size must be below " + std::to_string(kGetAsFrameLength) +
                              " (\"GET \" read as a frame length) when tcp is enabled");
    }
    if (max_inbound == 0 && max_outbound == 0) {
        return Unexpected(Errc::kInvalidArgument, "max_inbound and max_outbound are both 0");
    }
    return {};
}

}  // namespace peerchain::net::transport
