// Internal to net/transport: Listener accepts TCP connections and hands each to an
// InboundSniffer, which tells WebSocket from TCP by its first bytes; or closes it at once
// when the inbound limit is reached.
//
// Thread-safety: open() before start(), from one thread; start() and close() from any
// thread; the rest runs on the listener's strand.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "net/transport/transport_state.hpp"
#include "util/result.hpp"

namespace peerchain::net::transport::detail {

class Listener : public std::enable_shared_from_this<Listener> {
  public:
    explicit Listener(std::shared_ptr<TransportState> state);

    // Binds and listens. Returns the bound port; fails as Transport::listen documents.
    util::Result<std::uint16_t> open(const std::string& address, std::uint16_t port);
    void start();
    void close();

  private:
    void do_accept();
    void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
    void accept_socket(boost::asio::ip::tcp::socket socket);

    const std::shared_ptr<TransportState> state_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_timer_;
    bool closed_ = false;  // strand only
};

}  // namespace peerchain::net::transport::detail
