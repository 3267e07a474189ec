#include "net/transport/session_base.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>

namespace peerchain::net::transport::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string format_endpoint(const tcp::endpoint& endpoint) {
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
    }
    const auto host = address.to_string();
    const auto port = std::to_string(endpoint.port());
    return address.is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

std::string printable(std::string_view text, std::size_t max_size) {
    std::string out(text.substr(0, max_size));
    for (auto& c : out) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) c = '?';
    }
    return out;
}

std::string local_endpoint(const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto local = socket.local_endpoint(ec);
    return ec ? std::string() : format_endpoint(local);
}

std::string message_too_big(std::size_t max_message_size) {
    return "message too big: over " + std::to_string(max_message_size) + " bytes";
}

SessionBase::SessionBase(std::shared_ptr<TransportState> state, SessionId id, Direction direction,
                         Scheme transport, net::any_io_executor executor,
                         std::string remote_address, std::string local_address, std::string url,
                         Slot slot)
    : Session(id, direction, transport, std::move(remote_address), std::move(local_address),
              std::move(url)),
      state_(std::move(state)),
      executor_(std::move(executor)),
      slot_(std::move(slot)) {}

bool SessionBase::open() {
    phase_ = Phase::kOpen;
    spdlog::debug("p2p session {} open: {} {} {}", id(), direction_name(direction()),
                  scheme_name(transport()), remote_address());
    auto self = shared_from_this();
    const auto result = state_->call_handler("on_open", [&] {
        opened_.store(true);
        state_->handler().on_open(self);
    });
    if (result == CallResult::kRefused) {
        hard_close("transport stopped");
        return false;
    }
    if (result == CallResult::kThrew) {
        hard_close("handler error in on_open");
        return false;
    }
    return true;
}

bool SessionBase::deliver(util::Bytes payload) {
    auto self = shared_from_this();
    const auto result = state_->call_handler(
        "on_message", [&] { state_->handler().on_message(self, std::move(payload)); });
    if (result == CallResult::kRefused) return false;  // stop() closes us
    if (result == CallResult::kThrew) {
        hard_close("handler error in on_message");
        return false;
    }
    if (read_paused_.load() && phase_ == Phase::kOpen) {
        read_parked_ = true;
        on_reading_paused();
        return false;
    }
    return true;
}

void SessionBase::resume_reading() {
    read_paused_.store(false);
    net::post(executor_, [self = shared_from_this()] {
        self->guarded("resume", [&] {
            // A pause that came after this resume keeps the session parked.
            if (!self->read_parked_ || self->read_paused_.load()) return;
            if (self->phase_ != Phase::kOpen) return;
            self->read_parked_ = false;
            self->start_reading();
        });
    });
}

bool SessionBase::send(std::shared_ptr<const util::Bytes> payload) {
    if (!payload || closing_.load()) return false;
    const auto size = payload->size();
    const auto& limits = state_->limits();
    if (size > limits.max_message_size) {
        spdlog::warn("p2p session {}: refusing to send {} bytes, over max_message_size {}", id(),
                     size, limits.max_message_size);
        return false;
    }
    if (size == 0 && transport() == Scheme::kTcp) {
        // A TCP frame cannot carry an empty message (PROTOCOL.md section 2).
        spdlog::warn("p2p session {}: refusing to send an empty message over tcp", id());
        return false;
    }
    // Counted before the post, so that a flood of sends is refused before it allocates, and
    // by what the message holds, so that a flood of tiny ones is refused as soon.
    const auto held = held_bytes(*payload);
    const auto queued = queued_bytes_.fetch_add(held) + held;
    if (queued > limits.max_send_queue_bytes) {
        queued_bytes_.fetch_sub(held);
        closing_.store(true);
        net::post(executor_, [self = shared_from_this(), limit = limits.max_send_queue_bytes] {
            self->guarded("send queue overflow", [&] {
                self->hard_close("too slow: send queue over " + std::to_string(limit) + " bytes");
            });
        });
        return false;
    }
    net::post(executor_,
              [self = shared_from_this(), q = Queued{std::move(payload), held}]() mutable {
                  self->guarded("send", [&] { self->enqueue(std::move(q)); });
              });
    return true;
}

void SessionBase::enqueue(Queued queued) {
    if (phase_ != Phase::kOpen) {
        queued_bytes_.fetch_sub(queued.held);
        return;
    }
    write_queue_.push_back(std::move(queued));
    if (writing_ == 0) write_front();
}

void SessionBase::when_drained(std::size_t below, std::function<void()> callback) {
    net::post(executor_, [self = shared_from_this(), below, cb = std::move(callback)]() mutable {
        self->guarded("when_drained", [&] {
            if (self->phase_ == Phase::kDown) return;
            self->drained_below_ = below;
            self->on_drained_ = std::move(cb);
            self->check_drained();
        });
    });
}

void SessionBase::check_drained() noexcept {
    if (!on_drained_ || queued_bytes_.load() > drained_below_) return;
    auto callback = std::move(on_drained_);
    on_drained_ = nullptr;
    try {
        callback();
    } catch (const std::exception& e) {
        spdlog::error("p2p session {}: drain callback threw: {}", id(), e.what());
    } catch (...) {
        spdlog::error("p2p session {}: drain callback threw", id());
    }
}

void SessionBase::write_front() {
    writing_ = std::min(write_queue_.size(), std::max<std::size_t>(1, max_write_batch()));
    write_batch_.clear();
    for (std::size_t i = 0; i < writing_; ++i)
        write_batch_.push_back(write_queue_[i].payload.get());
    write_messages(write_batch_);
}

void SessionBase::on_write(boost::system::error_code ec, std::size_t /*bytes*/) {
    guarded("on_write", [&] {
        for (std::size_t i = 0; i < writing_ && !write_queue_.empty(); ++i) {
            queued_bytes_.fetch_sub(write_queue_.front().held);
            write_queue_.pop_front();
        }
        writing_ = 0;
        if (phase_ == Phase::kDown) return;
        if (ec) return hard_close("write failed: " + describe(ec));
        if (phase_ == Phase::kOpen && !write_queue_.empty()) write_front();
        check_drained();
    });
}

void SessionBase::close(std::string reason) {
    closing_.store(true);
    net::post(executor_, [self = shared_from_this(), r = std::move(reason)]() mutable {
        self->guarded("close", [&] { self->start_close(CloseCode::kNormal, std::move(r)); });
    });
}

bool SessionBase::is_open() const noexcept { return !closing_.load(); }

void SessionBase::evict_if_not_open(std::string reason) {
    net::post(executor_, [self = shared_from_this(), r = std::move(reason)]() mutable {
        self->guarded("evict", [&] {
            if (self->phase_ == Phase::kHandshake || self->phase_ == Phase::kClosing) {
                self->hard_close(std::move(r));
            }
        });
    });
}

void SessionBase::abort(std::string reason) {
    closing_.store(true);
    net::post(executor_, [self = shared_from_this(), r = std::move(reason)]() mutable {
        self->guarded("abort", [&] { self->hard_close(std::move(r)); });
    });
}

void SessionBase::stop_close() {
    closing_.store(true);
    net::post(executor_, [self = shared_from_this()] {
        self->guarded("stop",
                      [&] { self->start_close(CloseCode::kGoingAway, "transport stopped"); });
    });
}

bool SessionBase::claim_close_notification() noexcept {
    return opened_.load() && !close_notified_.exchange(true);
}

void SessionBase::start_close(CloseCode code, std::string reason) {
    if (phase_ == Phase::kClosing || phase_ == Phase::kDown) return;
    if (phase_ == Phase::kHandshake) return hard_close(std::move(reason));
    phase_ = Phase::kClosing;
    closing_.store(true);
    close_reason_ = std::move(reason);
    drop_queue();
    close_link(code);
}

void SessionBase::drop_queue() noexcept {
    // The messages being written stay until their write completes.
    const std::size_t keep = writing_;
    while (write_queue_.size() > keep) {
        queued_bytes_.fetch_sub(write_queue_.back().held);
        write_queue_.pop_back();
    }
}

void SessionBase::hard_close(std::string reason) noexcept {
    if (phase_ == Phase::kDown) return;
    try {
        if (close_reason_.empty()) close_reason_ = std::move(reason);
    } catch (...) {
    }
    closing_.store(true);
    // Closing the socket cancels the pending read, write and timers; their handlers find
    // the session down and return.
    close_socket();
    go_down();
}

void SessionBase::go_down() noexcept {
    phase_ = Phase::kDown;
    on_drained_ = nullptr;
    drop_queue();
    slot_.release();
    if (opened_.load()) {
        state_->call_handler("on_close", [&] {
            if (!close_notified_.exchange(true)) state_->handler().on_close(id(), close_reason_);
        });
    }
    state_->remove_session(id());
    spdlog::debug("p2p session {} ({}) closed: {}", id(), remote_address(), close_reason_);
}

std::string SessionBase::describe(boost::system::error_code ec) const {
    if (ec == boost::beast::error::timeout) {
        return phase_ == Phase::kHandshake ? "handshake timed out" : "timed out";
    }
    if (ec == net::error::eof || ec == net::error::connection_reset) {
        return "connection closed by peer";
    }
    return ec.message();
}

}  // namespace peerchain::net::transport::detail
