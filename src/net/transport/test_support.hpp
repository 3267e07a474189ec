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
