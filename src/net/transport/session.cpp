#include "net/transport/session.hpp"

namespace peerchain::net::transport {

const char* direction_name(Direction direction) noexcept {
    switch (direction) {
        case Direction::kInbound:
            return "inbound";
        case Direction::kOutbound:
            return "outbound";
    }
    return "unknown";
}

}  // namespace peerchain::net::transport
