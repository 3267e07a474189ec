// Internal to net/transport: Dialer resolves a peer URL's host, connects to the first
// address that answers, and hands the socket to a new outbound session: a WsSession for
// the upgrade (ws://), or a TcpSession, open at once (tcp://). Resolution and connect
// together are bounded by Limits::handshake_timeout.
//
// Thread-safety: start() and cancel() from any thread; the rest runs on the dialer's
// strand.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <string>

#include "net/transport/peer_url.hpp"
#include "net/transport/transport_state.hpp"

namespace peerchain::net::transport::detail {

class Dialer final : public PendingConnection, public std::enable_shared_from_this<Dialer> {
  public:
    // id becomes the session's id; url_text is reported back as given.
    Dialer(std::shared_ptr<TransportState> state, SessionId id, PeerUrl url, std::string url_text,
           Slot slot);

    void start();
    // Abandons the dial without reporting it (for stop()).
    void cancel() override;
    bool inbound() const noexcept override { return false; }

  private:
    template <typename F>
    void guarded(const char* where, F&& f) noexcept;
    void on_timer(boost::system::error_code ec);
    void on_resolve(boost::system::error_code ec,
                    boost::asio::ip::tcp::resolver::results_type results);
    void on_connect(boost::system::error_code ec, const boost::asio::ip::tcp::endpoint& endpoint);
    void fail(const std::string& reason);
    void finish() noexcept;

    const std::shared_ptr<TransportState> state_;
    const SessionId id_;
    const PeerUrl url_;
    const std::string url_text_;

    // Strand only.
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer timer_;
    Slot slot_;
    bool done_ = false;
    bool cancelled_ = false;
    bool timed_out_ = false;
};

}  // namespace peerchain::net::transport::detail
