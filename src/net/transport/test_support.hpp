// Shared by the transport tests: a Handler that records every call, bounded waits on what
// it saw, a fixture running an io_context on two threads, and raw-socket helpers for
// peers that misbehave. Test-only; not part of the library.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "net/transport/transport.hpp"

namespace peerchain::net::transport::test_support {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

inline constexpr auto kWait = 10s;

// Records every handler call; tests wait on predicates over what it saw.
class Recorder final : public Handler {
  public:
    void on_open(std::shared_ptr<Session> session) override {
        {
            std::lock_guard lock(mutex_);
            opened_.push_back(session);
        }
        cv_.notify_all();
    }
    void on_message(std::shared_ptr<Session> session, util::Bytes payload) override {
        {
            std::lock_guard lock(mutex_);
            messages_.emplace_back(session->id(), std::move(payload));
        }
        cv_.notify_all();
        if (message_hook) message_hook(session);
    }
    void on_close(SessionId id, std::string reason) override {
        {
            std::lock_guard lock(mutex_);
            EXPECT_TRUE(closed_.emplace(id, std::move(reason)).second) << "on_close twice";
        }
        cv_.notify_all();
        if (close_hook) close_hook();
    }
    void on_dial_failed(std::string url, std::string reason) override {
        {
            std::lock_guard lock(mutex_);
            dial_failures_.emplace_back(std::move(url), std::move(reason));
        }
        cv_.notify_all();
    }

    // Waits until pred (called under the recorder's lock) holds; false on timeout.
    template <typename Pred>
    bool wait(Pred pred, std::chrono::milliseconds timeout = kWait) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return pred(); });
    }
    bool wait_opened(std::size_t n) {
        return wait([&] { return opened_.size() >= n; });
    }
    bool wait_closed(std::size_t n) {
        return wait([&] { return closed_.size() >= n; });
    }
    bool wait_messages(std::size_t n) {
        return wait([&] { return messages_.size() >= n; });
    }
    bool wait_dial_failures(std::size_t n) {
        return wait([&] { return dial_failures_.size() >= n; });
    }

    std::vector<std::shared_ptr<Session>> opened() {
        std::lock_guard lock(mutex_);
        return opened_;
    }
    std::vector<std::pair<SessionId, util::Bytes>> messages() {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    std::map<SessionId, std::string> closed() {
        std::lock_guard lock(mutex_);
        return closed_;
    }
    std::vector<std::pair<std::string, std::string>> dial_failures() {
        std::lock_guard lock(mutex_);
        return dial_failures_;
    }

    // Runs after a message is recorded, outside the recorder's lock. Set before use.
    std::function<void(const std::shared_ptr<Session>&)> message_hook;
    // Runs after a close is recorded, outside the recorder's lock. Set before use.
    std::function<void()> close_hook;

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::shared_ptr<Session>> opened_;
    std::vector<std::pair<SessionId, util::Bytes>> messages_;
    std::map<SessionId, std::string> closed_;
    std::vector<std::pair<std::string, std::string>> dial_failures_;
};

// For state that no handler call announces (connection counts): polls until pred holds.
template <typename Pred>
inline bool eventually(Pred pred, std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

inline std::shared_ptr<const util::Bytes> bytes_of(std::string_view text) {
    return std::make_shared<const util::Bytes>(text.begin(), text.end());
}

inline std::string url_for(std::uint16_t port) { return "ws://127.0.0.1:" + std::to_string(port); }

inline bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

// An io_context run by two threads, as the node runs it.
class TransportTest : public ::testing::Test {
  protected:
    void SetUp() override {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    void TearDown() override {
        work_.reset();
        io_.stop();
        for (auto& t : threads_) t.join();
    }

    // A listening transport on an ephemeral loopback port.
    std::unique_ptr<Transport> make_server(Recorder& handler, Limits limits = {}) {
        auto t = std::make_unique<Transport>(io_, handler, limits);
        auto r = t->listen("127.0.0.1", 0);
        EXPECT_TRUE(r) << r.error().to_string();
        EXPECT_NE(t->listen_port(), 0);
        return t;
    }

    // Sends full-size messages to `session`, whose peer never reads: the kernel buffers
    // fill, then the send queue, and the session is closed as too slow.
    static void expect_closed_when_queue_fills(Recorder& events, const Limits& limits,
                                               const std::shared_ptr<Session>& session) {
        const auto chunk = std::make_shared<const util::Bytes>(limits.max_message_size);
        int sent = 0;
        while (sent < 4000 && session->send(chunk)) ++sent;
        EXPECT_LT(sent, 4000);
        ASSERT_TRUE(events.wait_closed(1));
        EXPECT_TRUE(contains(events.closed().at(session->id()), "too slow"));
        EXPECT_FALSE(session->is_open());
    }

    // Dials a server through `url_of(port)` and has the server answer the first message
    // with 1-byte messages until its queue refuses one. They are sent from inside
    // on_message, on the session's strand: nothing leaves the queue until the handler
    // returns, so the count does not depend on how fast the socket drains. The queue counts
    // each message's overhead: it fills at a payload sum of a few hundred bytes, not 64 KiB.
    void expect_queue_counts_overhead(const std::function<std::string(std::uint16_t)>& url_of) {
        Limits limits;
        limits.max_message_size = 1024;
        limits.max_send_queue_bytes = 64 * 1024;
        Recorder server_events;
        Recorder client_events;
        const auto tiny = std::make_shared<const util::Bytes>(1, 0x42);
        std::size_t accepted = 0;
        server_events.message_hook = [&](const std::shared_ptr<Session>& session) {
            while (accepted < limits.max_send_queue_bytes && session->send(tiny)) ++accepted;
        };
        auto server = make_server(server_events, limits);
        Transport client(io_, client_events);
        ASSERT_TRUE(client.dial(url_of(server->listen_port())));
        ASSERT_TRUE(client_events.wait_opened(1));
        ASSERT_TRUE(client_events.opened().at(0)->send(bytes_of("go")));

        ASSERT_TRUE(server_events.wait_closed(1));
        EXPECT_TRUE(contains(server_events.closed().begin()->second, "too slow"));
        EXPECT_EQ(accepted, limits.max_send_queue_bytes / held_bytes(*tiny));
        EXPECT_LT(accepted * tiny->size(), limits.max_send_queue_bytes / 100);
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::vector<std::thread> threads_;
};

// Reads from s until the peer closes it; returns what ended the read, or timed_out.
inline boost::system::error_code read_until_closed(asio::io_context& io, tcp::socket& s,
                                                   std::chrono::milliseconds timeout) {
    std::array<char, 4096> buffer{};
    boost::system::error_code result = asio::error::timed_out;
    std::function<void(boost::system::error_code, std::size_t)> on_read =
        [&](boost::system::error_code ec, std::size_t) {
            if (ec) {
                result = ec;
                return;
            }
            s.async_read_some(asio::buffer(buffer), on_read);
        };
    s.async_read_some(asio::buffer(buffer), on_read);
    io.restart();
    io.run_for(timeout);
    return result;
}

inline bool closed_by_peer(boost::system::error_code ec) {
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

}  // namespace peerchain::net::transport::test_support
