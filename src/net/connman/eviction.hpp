// Which inbound peer makes room when the inbound slots are full: Bitcoin Core's
// SelectNodeToEvict (src/node/eviction.cpp), with one rule added in front.
//
// 0. A peer that has not completed the handshake offers nothing yet: the oldest such goes
//    first, however young (it has had the longest to finish). Idle connections cannot
//    hold slots against anyone then, even when they keep coming back: an honest newcomer
//    evicts the oldest of them and completes its handshake in one round trip, before it
//    is the oldest. (A grace period that protected young idle connections let a flood of
//    reconnecting ones keep every slot young and every newcomer out.)
// Among the others, protected from eviction, in this order (each from what remains):
// 1. 4 peers of distinct address groups, chosen by a keyed hash of the group (an attacker
//    cannot predict which, and cannot take every slot from one group);
// 2. the 8 with the lowest ping;
// 3. the 4 that most recently gave us a transaction, and the 4 that most recently gave us
//    a block (peers useful to us);
// 4. the longest connected half of the rest.
// Of what remains, the peers of the group with the most connections (the one with the
// newest connection on a tie), and of those the youngest, is evicted. Nothing is evicted
// when every peer is protected: the newcomer is refused then.
//
// Thread-safety: a pure function.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace peerchain::net::connman {

struct EvictionCandidate {
    std::uint64_t id = 0;
    std::int64_t connected_at = 0;  // seconds
    bool handshake_done = false;
    std::int64_t ping_ms = -1;        // -1: not measured
    std::int64_t last_block_at = -1;  // -1: never
    std::int64_t last_tx_at = -1;     // -1: never
    std::string group;                // its address group
};

// The id of the peer to evict, or nullopt when every candidate is protected.
std::optional<std::uint64_t> select_inbound_to_evict(std::vector<EvictionCandidate> candidates,
                                                     const std::array<std::uint8_t, 32>& key);

}  // namespace peerchain::net::connman
