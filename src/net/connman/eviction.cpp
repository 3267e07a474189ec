#include "net/connman/eviction.hpp"

#include <algorithm>
#include <map>

#include "crypto/sha256.hpp"
#include "util/bytes.hpp"

namespace peerchain::net::connman {

namespace {

using Candidates = std::vector<EvictionCandidate>;

// Removes up to `n` of the candidates that `eligible` takes and that sort last by `less`
// (the best by that measure).
template <typename Eligible, typename Less>
void protect(Candidates& c, std::size_t n, Eligible eligible, Less less) {
    auto end = std::partition(c.begin(), c.end(), [&](const auto& x) { return !eligible(x); });
    std::sort(end, c.end(), less);
    const auto count = std::min<std::size_t>(n, static_cast<std::size_t>(c.end() - end));
    c.erase(c.end() - static_cast<std::ptrdiff_t>(count), c.end());
}

std::array<std::uint8_t, 32> keyed(const std::array<std::uint8_t, 32>& key,
                                   const std::string& group) {
    crypto::Sha256 h;
    h.write(key);
    h.write(util::as_bytes(group));
    return h.finalize();
}

}  // namespace

std::optional<std::uint64_t> select_inbound_to_evict(Candidates candidates,
                                                     const std::array<std::uint8_t, 32>& key) {
    // 0. The oldest of those that have not completed the handshake.
    const EvictionCandidate* idle = nullptr;
    for (const auto& c : candidates) {
        if (c.handshake_done) continue;
        if (idle == nullptr || c.connected_at < idle->connected_at ||
            (c.connected_at == idle->connected_at && c.id < idle->id)) {
            idle = &c;
        }
    }
    if (idle != nullptr) return idle->id;

    // 1. Distinct groups by a keyed hash: the 4 with the highest hashes, one per group.
    {
        std::map<std::array<std::uint8_t, 32>, std::size_t> by_hash;  // hash -> a candidate
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            by_hash.emplace(keyed(key, candidates[i].group), i);
        }
        std::vector<std::uint64_t> protected_ids;
        for (auto it = by_hash.rbegin(); it != by_hash.rend() && protected_ids.size() < 4; ++it) {
            protected_ids.push_back(candidates[it->second].id);
        }
        std::erase_if(candidates, [&](const auto& c) {
            return std::find(protected_ids.begin(), protected_ids.end(), c.id) !=
                   protected_ids.end();
        });
    }
    // 2. Lowest ping, among those measured.
    protect(
        candidates, 8, [](const auto& c) { return c.ping_ms >= 0; },
        [](const auto& a, const auto& b) {
            return a.ping_ms != b.ping_ms ? a.ping_ms > b.ping_ms : a.id < b.id;
        });
    // 3. Recent transactions, then recent blocks, among those that gave any.
    protect(
        candidates, 4, [](const auto& c) { return c.last_tx_at >= 0; },
        [](const auto& a, const auto& b) {
            return a.last_tx_at != b.last_tx_at ? a.last_tx_at < b.last_tx_at : a.id < b.id;
        });
    protect(
        candidates, 4, [](const auto& c) { return c.last_block_at >= 0; },
        [](const auto& a, const auto& b) {
            return a.last_block_at != b.last_block_at ? a.last_block_at < b.last_block_at
                                                      : a.id < b.id;
        });
    // 4. The longest connected half.
    protect(
        candidates, candidates.size() / 2, [](const auto&) { return true; },
        [](const auto& a, const auto& b) {
            return a.connected_at != b.connected_at ? a.connected_at > b.connected_at : a.id > b.id;
        });
    if (candidates.empty()) return std::nullopt;

    // The most crowded group (its newest member breaks ties), then its youngest peer.
    std::map<std::string, std::vector<const EvictionCandidate*>> groups;
    for (const auto& c : candidates) groups[c.group].push_back(&c);
    const std::vector<const EvictionCandidate*>* chosen = nullptr;
    std::int64_t chosen_newest = 0;
    for (const auto& [group, members] : groups) {
        std::int64_t newest = 0;
        for (const auto* m : members) newest = std::max(newest, m->connected_at);
        if (chosen == nullptr || members.size() > chosen->size() ||
            (members.size() == chosen->size() && newest > chosen_newest)) {
            chosen = &members;
            chosen_newest = newest;
        }
    }
    const EvictionCandidate* youngest = nullptr;
    for (const auto* m : *chosen) {
        if (youngest == nullptr || m->connected_at > youngest->connected_at ||
            (m->connected_at == youngest->connected_at && m->id > youngest->id)) {
            youngest = m;
        }
    }
    return youngest->id;
}

}  // namespace peerchain::net::connman
