// Internal to net/transport: InboundSniffer reads the first 4 bytes of an accepted
// connection to learn which transport the peer speaks, then hands the socket to a
// WsSession or a TcpSession. One P2P port serves both, so that a node has one address in
// gossip and in its users' firewalls, and a node that speaks both is reachable by either
// kind of peer.
//
// The two never look alike. A WebSocket client always starts with an HTTP request line,
// "GET " (RFC 6455 section 4.1). A TCP peer starts with the u32 little-endian length of
// its first message (its version, about 80 to 330 bytes); "GET " read as a length is
// 542,393,671, over any cap Limits::validate() allows with tcp on. So:
//   "GET "          -> WsSession, given the 4 bytes to parse as the start of the request;
//   anything else   -> TcpSession, the 4 bytes being its first length prefix, which must
//                      pass check_frame_length.
// A connection of a disabled transport, with a bad first length, or that sends fewer than
// 4 bytes within Limits::handshake_timeout is closed quietly: it never got on_open.
//
// Thread-safety: start() and cancel() from any thread; the rest runs on the socket's
// strand, which the session then keeps.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <string>

#include "net/transport/tcp_session.hpp"
#include "net/transport/transport_state.hpp"

namespace peerchain::net::transport::detail {

class InboundSniffer final : public PendingConnection,
                             public std::enable_shared_from_this<InboundSniffer> {
  public:
    // socket must be connected and use a strand as its executor. id becomes the session's.
    InboundSniffer(std::shared_ptr<TransportState> state, SessionId id,
                   boost::asio::ip::tcp::socket socket, std::string remote_address, Slot slot);

    void start();
    // Closes the connection without a session (for stop()).
    void cancel() override;
    bool inbound() const noexcept override { return true; }

  private:
    void on_timer(boost::system::error_code ec);
    void on_read(boost::system::error_code ec, std::size_t bytes);
    void hand_over();
    void drop(const std::string& why) noexcept;
    void finish() noexcept;

    const std::shared_ptr<TransportState> state_;
    const SessionId id_;
    const std::string remote_address_;
    const boost::asio::any_io_executor executor_;  // the strand

    // Strand only.
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    Slot slot_;
    FramePrefix first_{};
    bool done_ = false;
};

}  // namespace peerchain::net::transport::detail
