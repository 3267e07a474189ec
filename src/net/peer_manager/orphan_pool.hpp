// OrphanPool: transactions whose inputs spend outputs we do not know yet, held until their
// parents arrive (Bitcoin Core's txorphanage.h). Bounded like Bitcoin's: at most
// `max_orphans` transactions (100) of at most `max_tx_size` bytes each, each kept at most
// `expiry` (20 minutes); when full, a random one makes room, so that a peer cannot choose
// which orphans of others survive.
//
// Thread-safety: none; the peer manager calls it on the chain executor only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/block.hpp"
#include "core/transaction.hpp"
#include "core/uint256.hpp"
#include "net/peer_manager/peer_sender.hpp"

namespace peerchain::net::peer_manager {

using TxPtr = std::shared_ptr<const core::Transaction>;

struct OrphanLimits {
    std::size_t max_orphans = 100;         // Bitcoin: DEFAULT_MAX_ORPHAN_TRANSACTIONS
    std::size_t max_tx_size = 100'000;     // serialized bytes (Bitcoin: MAX_STANDARD_TX_WEIGHT)
    std::chrono::seconds expiry{20 * 60};  // Bitcoin: ORPHAN_TX_EXPIRE_TIME
};

class OrphanPool {
  public:
    struct Orphan {
        TxPtr tx;
        core::Uint256 txid;
        PeerId from = 0;  // who sent it: punished if it turns out invalid
        std::int64_t expires_at = 0;
    };

    // A max_orphans below 1 is raised to 1. `rng` picks what to evict; it must outlive the pool.
    OrphanPool(OrphanLimits limits, std::mt19937_64& rng);

    // Keeps `tx` (whose txid is `txid`), sent by `from`, until `now + expiry`. Returns false
    // when it is already held or too big. Evicts a random orphan when full.
    bool add(TxPtr tx, const core::Uint256& txid, PeerId from, std::int64_t now);

    bool contains(const core::Uint256& txid) const { return orphans_.contains(txid); }
    std::size_t size() const { return orphans_.size(); }

    // The orphan, if held (valid until the pool changes).
    const Orphan* find(const core::Uint256& txid) const;
    // Removes and returns the orphan, if held.
    std::optional<Orphan> take(const core::Uint256& txid);
    // The orphans that spend an output of `parent`, oldest first.
    std::vector<core::Uint256> children_of(const core::Uint256& parent) const;
    // Drops what `peer` sent (it disconnected). Returns how many.
    std::size_t erase_for_peer(PeerId peer);
    // Drops what expired by `now`. Returns how many.
    std::size_t expire(std::int64_t now);
    // A block connected: drops its transactions and the orphans that spend an output one
    // of them spends (they can never be valid now). Returns the orphans that spend an
    // output of the block's transactions: worth trying again.
    std::vector<core::Uint256> erase_for_block(const core::Block& block);

  private:
    void erase(const core::Uint256& txid);

    OrphanLimits limits_;
    std::mt19937_64& rng_;
    std::uint64_t next_seq_ = 0;
    std::unordered_map<core::Uint256, std::pair<Orphan, std::uint64_t>, core::Uint256Hasher>
        orphans_;
    std::map<std::uint64_t, core::Uint256> by_age_;
    // The parents' txids each orphan spends from, to find children: parent -> (seq, child).
    std::unordered_map<core::Uint256, std::set<std::pair<std::uint64_t, core::Uint256>>,
                       core::Uint256Hasher>
        by_parent_;
    // Every outpoint an orphan spends, to find conflicts with a block (orphans may
    // conflict with each other, so one outpoint may have several).
    std::multimap<core::OutPoint, core::Uint256> by_prevout_;
};

}  // namespace peerchain::net::peer_manager
