#include "api/server/connection_table.hpp"

#include <tuple>

namespace peerchain::api::detail {

ConnectionTable::Admission ConnectionTable::admit(const std::string& client,
                                                  Clock::time_point now) {
    util::LockGuard lock(mutex_);
    const auto same = per_client_.find(client);
    const bool client_full = same != per_client_.end() && same->second >= limits_.max_per_client;
    std::optional<std::uint64_t> victim;
    if (client_full || live_ >= limits_.max_connections) {
        if (evicting_ < limits_.max_rejecting) {
            victim = longest_waiting(client_full ? &client : nullptr);
        }
        if (!victim) {
            if (refused_ >= limits_.max_rejecting) return {Admission::Kind::kDropped, 0, {}};
            const std::uint64_t id = next_id_++;
            entries_.emplace(id, Entry{client, std::nullopt, true, false});
            ++refused_;
            return {Admission::Kind::kRefused, id, {}};
        }
        Entry& out = entries_.at(*victim);
        out.evicted = true;
        out.waiting_since.reset();
        --live_;
        auto count = per_client_.find(out.client);
        if (--count->second == 0) per_client_.erase(count);
        ++evicting_;
    }
    const std::uint64_t id = next_id_++;
    entries_.emplace(id, Entry{client, now, false, false});
    ++live_;
    ++per_client_[client];
    return {Admission::Kind::kAdmitted, id, victim};
}

void ConnectionTable::waiting(std::uint64_t id, Clock::time_point now) {
    util::LockGuard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.refused || it->second.evicted) return;
    it->second.waiting_since = now;
}

bool ConnectionTable::waiting_done(std::uint64_t id) {
    util::LockGuard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.evicted) return false;
    it->second.waiting_since.reset();
    return true;
}

void ConnectionTable::forget(std::uint64_t id) {
    util::LockGuard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    const Entry& e = it->second;
    if (e.refused) {
        --refused_;
    } else if (e.evicted) {
        --evicting_;
    } else {
        --live_;
        auto count = per_client_.find(e.client);
        if (--count->second == 0) per_client_.erase(count);
    }
    entries_.erase(it);
}

std::size_t ConnectionTable::size() const {
    util::LockGuard lock(mutex_);
    return entries_.size();
}

std::optional<std::uint64_t> ConnectionTable::longest_waiting(const std::string* client) const {
    std::optional<std::uint64_t> best;
    Clock::time_point best_since;
    for (const auto& [id, e] : entries_) {
        if (e.refused || e.evicted || !e.waiting_since) continue;
        if (client != nullptr && e.client != *client) continue;
        // Ties go to the older connection, so that the choice does not depend on the map.
        if (!best || std::tie(*e.waiting_since, id) < std::tie(best_since, *best)) {
            best = id;
            best_since = *e.waiting_since;
        }
    }
    return best;
}

}  // namespace peerchain::api::detail
