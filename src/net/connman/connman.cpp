#include "net/connman/connman.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "net/transport/peer_url.hpp"

namespace peerchain::net::connman {

namespace {

peer_manager::Direction to_peer_direction(transport::Direction d) {
    return d == transport::Direction::kInbound ? peer_manager::Direction::kInbound
                                               : peer_manager::Direction::kOutbound;
}

}  // namespace

ConnMan::ConnMan(boost::asio::io_context& io, util::SerialExecutor& executor, Config config)
    : io_(io), executor_(executor), config_(std::move(config)) {}

ConnMan::~ConnMan() { stop(); }

util::Result<void> ConnMan::start(peer_manager::PeerManager& peers) {
    peers_.store(&peers);
    transport_ = std::make_unique<transport::Transport>(io_, *this, config_.limits);
    if (auto r = transport_->listen(config_.bind_address, config_.port); !r) {
        return util::Unexpected(
            r.error().code, "P2P port " + std::to_string(config_.port) + ": " + r.error().message);
    }
    return {};
}

void ConnMan::stop() {
    if (transport_) transport_->stop();
}

std::uint16_t ConnMan::listen_port() const noexcept {
    return transport_ ? transport_->listen_port() : 0;
}

util::Result<void> ConnMan::add_peer(const std::string& url) {
    if (!transport_) return util::Unexpected(util::Errc::kUnavailable, "node is stopping");
    auto* peers = peers_.load();
    if (auto parsed = transport::parse_peer_url(url);
        parsed && peers != nullptr && peers->is_discouraged(parsed->host_port())) {
        return util::Unexpected(util::Errc::kUnavailable,
                                parsed->host_port() + " is discouraged: it sent invalid data");
    }
    spdlog::info("connecting to {}", url);
    return transport_->dial(url);
}

std::size_t ConnMan::session_count() const {
    util::LockGuard lock(mutex_);
    return sessions_.size();
}

std::shared_ptr<transport::Session> ConnMan::session(peer_manager::PeerId id) const {
    util::LockGuard lock(mutex_);
    auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second.session;
}

// --- transport::Handler ---------------------------------------------------------------------

void ConnMan::on_open(std::shared_ptr<transport::Session> session) {
    const auto id = session->id();
    peer_manager::ConnectionInfo info;
    info.direction = to_peer_direction(session->direction());
    info.address = session->remote_address();
    info.url = session->url();
    {
        util::LockGuard lock(mutex_);
        sessions_[id] = SessionEntry{session, std::make_shared<std::atomic<std::size_t>>(0)};
    }
    executor_.post([this, id, info] { peers_.load()->on_peer_connected(id, info); });
}

void ConnMan::on_message(std::shared_ptr<transport::Session> session, util::Bytes payload) {
    std::shared_ptr<std::atomic<std::size_t>> pending;
    {
        util::LockGuard lock(mutex_);
        auto it = sessions_.find(session->id());
        if (it == sessions_.end()) return;
        pending = it->second.pending;
    }
    const std::size_t size = payload.size();
    if (pending->fetch_add(size) + size > config_.max_pending_bytes_per_peer) {
        session->close("flooding: too much unprocessed data");
        return;
    }
    executor_.post(
        [this, id = session->id(), pending, size, payload = std::move(payload)]() mutable {
            pending->fetch_sub(size);
            peers_.load()->on_message(id, std::move(payload));
        });
}

void ConnMan::on_close(transport::SessionId id, std::string reason) {
    {
        util::LockGuard lock(mutex_);
        sessions_.erase(id);
    }
    executor_.post([this, id, reason] { peers_.load()->on_peer_disconnected(id, reason); });
}

void ConnMan::on_dial_failed(std::string url, std::string reason) {
    spdlog::warn("could not connect to {}: {}", url, reason);
}

// --- peer_manager::PeerSender ---------------------------------------------------------------

void ConnMan::send(peer_manager::PeerId id, std::shared_ptr<const util::Bytes> message) {
    if (auto s = session(id)) s->send(std::move(message));
}

void ConnMan::disconnect(peer_manager::PeerId id, std::string reason) {
    if (auto s = session(id)) s->close(std::move(reason));
}

}  // namespace peerchain::net::connman
