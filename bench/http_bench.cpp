// The yardstick of the API's speed (issue 10, point 5): a bare Boost.Beast HTTP server that
// answers every request with the same JSON body, and a load generator that keeps C
// connections busy with keep-alive GETs for a number of seconds. bench/api_scenario.py runs
// the generator against a node's GET /status and against the bare server with a body of the
// same size and as many threads as the node's HTTP server, so the ratio of the two rates is
// what the node's server, router and handler cost over Beast itself.
//
//   peerchain-http-bench serve [--threads T] [--body-bytes N]     prints "port P", serves
//   peerchain-http-bench load --port P [--path /status] [--connections C] [--seconds S]
//                              prints {"requests":..,"seconds":..,"per_second":..,"errors":..}
//
// Not part of the node: a benchmark tool, built with the benchmarks.
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// --- The bare server -------------------------------------------------------------------------

class ServerSession : public std::enable_shared_from_this<ServerSession> {
  public:
    ServerSession(tcp::socket socket, std::shared_ptr<const std::string> body)
        : stream_(std::move(socket)), body_(std::move(body)) {}

    void start() {
        asio::dispatch(stream_.get_executor(),
                       beast::bind_front_handler(&ServerSession::read, shared_from_this()));
    }

  private:
    void read() {
        req_ = {};
        stream_.expires_after(std::chrono::seconds(30));
        http::async_read(stream_, buffer_, req_,
                         beast::bind_front_handler(&ServerSession::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) return close();
        res_ = http::response<http::string_body>(http::status::ok, req_.version());
        res_.set(http::field::server, "bare");
        res_.set(http::field::content_type, "application/json");
        res_.body() = *body_;
        res_.prepare_payload();
        res_.keep_alive(req_.keep_alive());
        http::async_write(stream_, res_,
                          beast::bind_front_handler(&ServerSession::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec || !res_.keep_alive()) return close();
        read();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
    std::shared_ptr<const std::string> body_;
};

void accept(tcp::acceptor& acceptor, asio::io_context& io,
            const std::shared_ptr<const std::string>& body) {
    acceptor.async_accept(asio::make_strand(io),
                          [&acceptor, &io, body](beast::error_code ec, tcp::socket socket) {
                              if (!ec) {
                                  socket.set_option(tcp::no_delay(true), ec);
                                  std::make_shared<ServerSession>(std::move(socket), body)->start();
                              }
                              accept(acceptor, io, body);
                          });
}

int serve(int threads, std::size_t body_bytes) {
    // A JSON string of the requested size: {"x":"aaa..."}.
    const std::size_t overhead = std::string_view(R"({"x":""})").size();
    auto body = std::make_shared<const std::string>(
        R"({"x":")" + std::string(body_bytes > overhead ? body_bytes - overhead : 0, 'a') +
        R"("})");
    asio::io_context io(threads);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::cout << "port " << acceptor.local_endpoint().port() << std::endl;
    accept(acceptor, io, body);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : pool) t.join();
    return 0;
}

// --- The load generator ----------------------------------------------------------------------

struct LoadState {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> done{0};
    std::atomic<std::uint64_t> errors{0};
};

class Client : public std::enable_shared_from_this<Client> {
  public:
    Client(asio::io_context& io, tcp::endpoint to, std::shared_ptr<const std::string> request,
           LoadState& state)
        : socket_(io), to_(to), request_(std::move(request)), state_(state) {}

    void start() {
        socket_.async_connect(to_, [self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                self->state_.errors.fetch_add(1);
                return;
            }
            self->socket_.set_option(tcp::no_delay(true), ec);
            self->send();
        });
    }

  private:
    void send() {
        if (state_.stop.load(std::memory_order_relaxed)) return;
        asio::async_write(socket_, asio::buffer(*request_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                  self->state_.errors.fetch_add(1);
                                  return;
                              }
                              self->receive();
                          });
    }

    void receive() {
        res_ = {};
        http::async_read(socket_, buffer_, res_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             if (ec || self->res_.result() != http::status::ok) {
                                 self->state_.errors.fetch_add(1);
                                 return;
                             }
                             self->state_.done.fetch_add(1, std::memory_order_relaxed);
                             self->send();
                         });
    }

    tcp::socket socket_;
    tcp::endpoint to_;
    std::shared_ptr<const std::string> request_;
    LoadState& state_;
    beast::flat_buffer buffer_;
    http::response<http::string_body> res_;
};

int load(unsigned short port, const std::string& path, int connections, double seconds) {
    asio::io_context io(1);
    const tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port);
    auto request = std::make_shared<const std::string>(
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
        "\r\nUser-Agent: peerchain-http-bench\r\n\r\n");
    LoadState state;
    for (int i = 0; i < connections; ++i) {
        std::make_shared<Client>(io, to, request, state)->start();
    }
    const auto started = std::chrono::steady_clock::now();
    asio::steady_timer timer(io, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::duration<double>(seconds)));
    std::uint64_t counted = 0;
    timer.async_wait([&](beast::error_code) {
        counted = state.done.load();
        state.stop = true;
        io.stop();
    });
    io.run();
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("{\"requests\": %llu, \"seconds\": %.3f, \"per_second\": %.1f, \"errors\": %llu}\n",
                static_cast<unsigned long long>(counted), took, static_cast<double>(counted) / took,
                static_cast<unsigned long long>(state.errors.load()));
    return state.errors.load() == 0 ? 0 : 1;
}

int usage() {
    std::cerr << "usage: peerchain-http-bench serve [--threads T] [--body-bytes N]\n"
                 "       peerchain-http-bench load --port P [--path PATH] [--connections C] "
                 "[--seconds S]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    const std::string mode = argv[1];
    int threads = 2;
    std::size_t body_bytes = 512;
    unsigned long port = 0;
    std::string path = "/status";
    int connections = 8;
    double seconds = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const char* value = argv[i + 1];
        if (key == "--threads") {
            threads = std::atoi(value);
        } else if (key == "--body-bytes") {
            body_bytes = std::strtoul(value, nullptr, 10);
        } else if (key == "--port") {
            port = std::strtoul(value, nullptr, 10);
        } else if (key == "--path") {
            path = value;
        } else if (key == "--connections") {
            connections = std::atoi(value);
        } else if (key == "--seconds") {
            seconds = std::atof(value);
        } else {
            return usage();
        }
    }
    try {
        if (mode == "serve" && threads > 0) return serve(threads, body_bytes);
        if (mode == "load" && port > 0 && port < 65536 && connections > 0 && seconds > 0) {
            return load(static_cast<unsigned short>(port), path, connections, seconds);
        }
    } catch (const std::exception& e) {
        std::cerr << "peerchain-http-bench: " << e.what() << "\n";
        return 1;
    }
    return usage();
}
