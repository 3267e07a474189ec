// Internal to net/transport: WsSession, a Session over a Beast WebSocket stream: one
// message per binary frame, Beast's keep-alive pings and timeouts, a closing handshake
// with a close code. The queue, flags and handler calls are SessionBase's.
//
// Thread-safety: as SessionBase; everything here runs on the session's strand.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "net/transport/session_base.hpp"

namespace peerchain::net::transport::detail {

class WsSession final : public SessionBase {
  public:
    // socket must be connected and use a strand as its executor. slot is held until the
    // session is down.
    WsSession(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
              boost::asio::ip::tcp::socket socket, std::string remote_address, std::string url,
              Slot slot);

    // Starts the upgrade as server. already_read: the first bytes of the request, which the
    // listener read to tell WebSocket from TCP; Beast parses them before reading more.
    void start_server(util::Bytes already_read);
    // Starts the upgrade as client, with the Host header and request target.
    void start_client(std::string host_header, std::string target);

  private:
    void write_messages(std::span<const util::Bytes* const> payloads) override;
    void start_reading() override;
    void on_reading_paused() override;
    void close_link(CloseCode code) override;
    void close_socket() noexcept override;
    std::string describe(boost::beast::error_code ec) const override;

    void configure(bool server);
    // Beast's handshake and idle timeouts from the limits; with idle false, no idle
    // timeout and no keep-alive pings (while reading is paused).
    void set_timeouts(bool idle);
    void on_handshake(boost::beast::error_code ec);
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void on_closed(boost::beast::error_code ec);

    boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
    bool idle_timeout_off_ = false;  // strand only

    // Strand only. The message being read goes straight into read_bytes_, which
    // on_message then takes.
    util::Bytes read_bytes_;
    std::optional<boost::asio::dynamic_vector_buffer<std::uint8_t, std::allocator<std::uint8_t>>>
        read_view_;
};

}  // namespace peerchain::net::transport::detail
