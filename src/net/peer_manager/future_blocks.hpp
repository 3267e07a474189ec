// FutureBlocks: blocks refused as `time-too-new` (their time is more than max_future_drift
// past our clock), kept until the clock passes that limit and then handed back to be
// processed again (issue 9). A block only gets that refusal after its proof of work checked
// out and its parent was found (chain::Chainstate::process_block's order), so a peer pays
// real work for each block it makes us keep. Bounded for all peers together: at most
// `max_blocks` blocks and `max_bytes` serialized bytes, and only blocks that become
// acceptable within `max_wait`; when full, the block furthest in the future goes (a peer
// whose clock runs far ahead cannot push out blocks that are nearly due).
//
// Thread-safety: none; the peer manager calls it on the chain executor only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/block.hpp"
#include "core/uint256.hpp"
#include "net/peer_manager/peer_sender.hpp"

namespace peerchain::net::peer_manager {

struct FutureBlockLimits {
    std::size_t max_blocks = 16;
    std::size_t max_bytes = 8u << 20;
    // How long after it arrives a block may still be too new to be kept.
    std::chrono::seconds max_wait{10 * 60};
};

class FutureBlocks {
  public:
    struct Entry {
        core::BlockPtr block;
        core::Uint256 hash;
        PeerId from = 0;                 // who sent it: punished or credited when it is processed
        std::int64_t acceptable_at = 0;  // our clock's first second at which it is not too new
        std::size_t bytes = 0;
    };
    enum class Added {
        kKept,
        kDuplicate,  // already held
        kTooFar,     // acceptable only after max_wait: not kept
        kNoRoom,     // full of blocks due no later than this one: not kept
    };

    explicit FutureBlocks(FutureBlockLimits limits) : limits_(limits) {}

    // Keeps `block` (its id `hash`, `bytes` serialized) until `acceptable_at`, evicting the
    // blocks due last while the limits would be passed. Evicted blocks go to `evicted`
    // (for the log) when given.
    Added add(core::BlockPtr block, const core::Uint256& hash, std::size_t bytes, PeerId from,
              std::int64_t acceptable_at, std::int64_t now, std::vector<Entry>* evicted = nullptr);
    // Removes and returns the blocks acceptable at `now`, earliest due first.
    std::vector<Entry> take_ready(std::int64_t now);

    bool contains(const core::Uint256& hash) const;
    std::size_t size() const { return by_hash_.size(); }
    std::size_t bytes() const { return bytes_; }

  private:
    using Queue = std::multimap<std::int64_t, Entry>;  // by acceptable_at
    void erase(Queue::iterator it);

    FutureBlockLimits limits_;
    Queue queue_;
    std::map<core::Uint256, Queue::iterator> by_hash_;
    std::size_t bytes_ = 0;
};

}  // namespace peerchain::net::peer_manager
