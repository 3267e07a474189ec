#include "net/addrman/ban_man.hpp"

#include <algorithm>
#include <array>

#include "core/serialize.hpp"
#include "net/addrman/file_format.hpp"
#include "net/addrman/net_address.hpp"
#include "util/file.hpp"

namespace peerchain::net::addrman {

namespace {

constexpr std::array<std::uint8_t, 4> kMagic{'P', 'C', 'B', 'N'};
constexpr std::uint8_t kVersion = 1;
// "[" host "]:" port
constexpr std::size_t kMaxKeyLength = kMaxHostLength + 8;
constexpr std::size_t kMinBanBytes = 2 + 1 + 8 + 8;
constexpr std::size_t kMaxBanBytes = 2 + kMaxKeyLength + 8 + 8;

util::Unexpected invalid(std::string message) {
    return util::Unexpected(util::Errc::kInvalidArgument, std::move(message));
}

util::Unexpected corrupt(const std::string& what) {
    return util::Unexpected(util::Errc::kCorruption, "ban list file: " + what);
}

util::Result<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return invalid("port must be 1..65535");
    std::uint32_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return invalid("port must be 1..65535");
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (value == 0 || value > 65535) return invalid("port must be 1..65535");
    return static_cast<std::uint16_t>(value);
}

// "host:port", or "[v6]:port".
std::string endpoint_key(const std::string& host, std::uint16_t port) {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

const char* ban_kind_name(BanKind kind) noexcept {
    switch (kind) {
        case BanKind::kBanned:
            return "banned";
        case BanKind::kDiscouraged:
            return "discouraged";
    }
    return "unknown";
}

util::Result<std::string> parse_ban_address(std::string_view address) {
    if (address.empty()) return invalid("empty address");
    if (address.size() > kMaxKeyLength) return invalid("address too long");
    std::string_view host = address;
    std::string_view port_text;
    bool has_port = false;
    if (address.front() == '[') {
        const auto close = address.find(']');
        if (close == std::string_view::npos) return invalid("unterminated '[' in address");
        host = address.substr(0, close + 1);
        const auto rest = address.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return invalid("expected ':' and a port after ']'");
            port_text = rest.substr(1);
            has_port = true;
        }
    } else if (const auto colon = address.find(':');
               colon != std::string_view::npos &&
               address.find(':', colon + 1) == std::string_view::npos) {
        host = address.substr(0, colon);
        port_text = address.substr(colon + 1);
        has_port = true;
    }
    auto canonical = canonical_host(host);
    if (!canonical) return util::Unexpected(std::move(canonical).error());
    if (!has_port) return std::move(*canonical);
    auto port = parse_port(port_text);
    if (!port) return util::Unexpected(std::move(port).error());
    return endpoint_key(*canonical, *port);
}

BanMan::BanMan(BanManConfig config, const util::Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

std::size_t BanMan::sweep_locked(std::int64_t now) {
    const std::size_t before = bans_.size() + discouraged_.size();
    std::erase_if(bans_, [now](const auto& kv) { return kv.second.until <= now; });
    while (!discouraged_by_expiry_.empty() && discouraged_by_expiry_.begin()->first <= now) {
        discouraged_.erase(discouraged_by_expiry_.begin()->second);
        discouraged_by_expiry_.erase(discouraged_by_expiry_.begin());
    }
    return before - bans_.size() - discouraged_.size();
}

std::size_t BanMan::sweep() {
    const std::int64_t now = clock_.now_seconds();
    util::LockGuard lock(mutex_);
    return sweep_locked(now);
}

// Core's Discourage keeps a rolling bloom filter; an exact map bounded by count does the
// same job without false positives, and evicting what expires first keeps the most
// recent offenders.
bool BanMan::discourage(std::string_view host) {
    auto canonical = canonical_host(host);
    if (!canonical) return false;
    const NetAddress address{*canonical, 1, kTransportWebSocket};
    if (!address.is_ip() || address.is_loopback()) return false;
    const std::int64_t now = clock_.now_seconds();
    const std::int64_t until = now + config_.discourage_time;
    util::LockGuard lock(mutex_);
    sweep_locked(now);
    if (auto it = discouraged_.find(*canonical); it != discouraged_.end()) {
        discouraged_by_expiry_.erase({it->second.until, it->first});
        it->second = Times{now, until};
        discouraged_by_expiry_.emplace(until, it->first);
        return true;
    }
    if (discouraged_.size() >= std::max<std::size_t>(config_.max_discouraged, 1)) {
        discouraged_.erase(discouraged_by_expiry_.begin()->second);
        discouraged_by_expiry_.erase(discouraged_by_expiry_.begin());
    }
    discouraged_by_expiry_.emplace(until, *canonical);
    discouraged_.emplace(std::move(*canonical), Times{now, until});
    return true;
}

bool BanMan::is_discouraged(std::string_view host) const {
    const auto canonical = canonical_host(host);
    if (!canonical) return false;
    const std::int64_t now = clock_.now_seconds();
    util::LockGuard lock(mutex_);
    const auto it = discouraged_.find(*canonical);
    return it != discouraged_.end() && it->second.until > now;
}

util::Result<void> BanMan::ban(std::string_view address, std::int64_t seconds) {
    auto key = parse_ban_address(address);
    if (!key) return util::Unexpected(std::move(key).error());
    if (seconds < 1 || seconds > config_.max_ban_time) {
        return invalid("ban time must be 1.." + std::to_string(config_.max_ban_time) + " seconds");
    }
    const std::int64_t now = clock_.now_seconds();
    {
        util::LockGuard lock(mutex_);
        sweep_locked(now);
        if (!bans_.contains(*key) && bans_.size() >= config_.max_bans) {
            return invalid("the ban list is full (" + std::to_string(config_.max_bans) + ")");
        }
        bans_[std::move(*key)] = Times{now, now + seconds};
    }
    return persist();
}

util::Result<bool> BanMan::unban(std::string_view address) {
    auto key = parse_ban_address(address);
    if (!key) return util::Unexpected(std::move(key).error());
    const std::int64_t now = clock_.now_seconds();
    bool removed = false;
    {
        util::LockGuard lock(mutex_);
        sweep_locked(now);
        removed = bans_.erase(*key) != 0;
    }
    if (!removed) return false;
    auto saved = persist();
    if (!saved) return util::Unexpected(saved.error());
    return true;
}

bool BanMan::is_banned(std::string_view host, std::uint16_t port) const {
    const auto canonical = canonical_host(host);
    if (!canonical) return false;
    const std::int64_t now = clock_.now_seconds();
    const auto active = [&](const std::string& key) REQUIRES(mutex_) {
        const auto it = bans_.find(key);
        return it != bans_.end() && it->second.until > now;
    };
    util::LockGuard lock(mutex_);
    return active(*canonical) || (port != 0 && active(endpoint_key(*canonical, port)));
}

std::vector<BanEntry> BanMan::list() const {
    const std::int64_t now = clock_.now_seconds();
    std::vector<BanEntry> out;
    util::LockGuard lock(mutex_);
    for (const auto& [key, t] : bans_) {
        if (t.until > now) out.push_back({BanKind::kBanned, key, t.created, t.until});
    }
    for (const auto& [key, t] : discouraged_) {
        if (t.until > now) out.push_back({BanKind::kDiscouraged, key, t.created, t.until});
    }
    return out;
}

util::Result<void> BanMan::persist() const {
    if (config_.path.empty()) return {};
    // The snapshot is taken under the file lock, so that the last write has the last state.
    util::LockGuard save_lock(save_mutex_);
    util::Bytes bytes;
    core::Writer w(bytes);
    {
        util::LockGuard lock(mutex_);
        w.bytes(kMagic);
        w.u8(kVersion);
        w.u32(static_cast<std::uint32_t>(bans_.size()));
        for (const auto& [key, t] : bans_) {
            detail::write_str(w, key);
            w.i64(t.created);
            w.i64(t.until);
        }
    }
    detail::append_checksum(bytes);
    auto written = util::write_file_atomic(config_.path, bytes);
    if (!written) {
        return util::Unexpected(util::Errc::kIo,
                                "in effect but not saved: " + written.error().message);
    }
    return {};
}

util::Result<std::size_t> BanMan::load() {
    if (config_.path.empty()) return std::size_t{0};
    const std::size_t limit = 4 + 1 + 4 + config_.max_bans * kMaxBanBytes + 32;
    auto bytes = util::read_file(config_.path, limit);
    if (!bytes) {
        if (bytes.error().code == util::Errc::kNotFound) return std::size_t{0};
        return util::Unexpected(std::move(bytes).error());
    }
    auto body = detail::strip_checksum(*bytes);
    if (!body) return corrupt(body.error().message);
    core::Reader r(*body);
    std::array<std::uint8_t, 4> magic{};
    std::uint8_t version = 0;
    std::uint32_t count = 0;
    if (!r.array(magic) || magic != kMagic) return corrupt("bad magic");
    if (!r.u8(version) || version != kVersion) {
        return corrupt("unknown version " + std::to_string(version));
    }
    if (!r.u32(count) || count > config_.max_bans || count > body->size() / kMinBanBytes) {
        return corrupt("bad count");
    }
    const std::int64_t now = clock_.now_seconds();
    std::map<std::string, Times> loaded;
    for (std::uint32_t n = 0; n < count; ++n) {
        std::string key;
        Times t;
        const std::string where = "ban " + std::to_string(n);
        if (!detail::read_str(r, key, kMaxKeyLength) || !r.i64(t.created) || !r.i64(t.until)) {
            return corrupt(where + " cut short");
        }
        const auto canonical = parse_ban_address(key);
        if (!canonical || *canonical != key) return corrupt(where + ": bad address");
        if (t.created < 0 || t.until <= t.created || t.until - t.created > config_.max_ban_time) {
            return corrupt(where + ": bad times");
        }
        if (!loaded.emplace(std::move(key), t).second) return corrupt(where + ": duplicate");
    }
    if (!r.at_end()) return corrupt("trailing bytes");
    std::erase_if(loaded, [now](const auto& kv) { return kv.second.until <= now; });
    util::LockGuard lock(mutex_);
    bans_ = std::move(loaded);
    return bans_.size();
}

}  // namespace peerchain::net::addrman
