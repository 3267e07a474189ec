// Internal to net/peer_manager: BlockDownloader, the block half of headers-first sync
// (docs/PROTOCOL.md 4.4). Once a peer's headers show more work than our tip, it asks that
// peer for the blocks along its chain, from where the chain leaves ours, in a window that
// moves with the tip: at most `block_download_window` blocks past the fork point, at most
// `max_blocks_in_flight` per peer, each block from one peer at a time. A peer that holds
// requests and delivers none of them for `block_stall_timeout` is stalling; its blocks go
// to other peers (Bitcoin Core's FindNextBlocksToDownload and stall detection, simplified).
//
// Per-peer state (in flight, cursor, progress) lives in Peer; the map of every block in
// flight lives here.
//
// Thread-safety: none; the chain executor only.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chain/chainstate.hpp"
#include "net/peer_manager/peer.hpp"
#include "net/peer_manager/peer_manager.hpp"

namespace peerchain::net::peer_manager {

class BlockDownloader {
  public:
    BlockDownloader(PeerContext& context, const chain::Chainstate& chain, const Config& config)
        : context_(context), chain_(chain), config_(config) {}

    // Asks `peer` for the next blocks of its best chain that nobody is fetching.
    void request(Peer& peer);
    void request_from_all();

    // A block came from `peer`: its request (from whoever) is released. True when it was
    // in flight from this very peer (a block it was asked for).
    bool received(Peer& peer, const core::Uint256& hash);
    // `peer` answered `notfound` for these blocks: they go to others, and this peer is not
    // asked for them again. Returns true when any was in flight from it.
    bool not_found(Peer& peer, const std::vector<wire::InvItem>& items);
    // The peer is going: its requests go to others.
    void release_all(Peer& peer);

    // Why `peer` is stalling at `now`, if it is.
    std::optional<std::string> stalling(const Peer& peer, std::int64_t now) const;
    // Start every peer's next walk from the fork point again (each tick, to be safe).
    void reset_cursors();

    bool in_flight(const core::Uint256& hash) const { return in_flight_.contains(hash); }

  private:
    void release(const core::Uint256& hash);

    PeerContext& context_;
    const chain::Chainstate& chain_;
    const Config& config_;
    // Every block requested and not yet received, and from whom (one peer per block).
    std::unordered_map<core::Uint256, PeerId, core::Uint256Hasher> in_flight_;
    // request()'s scratch: the blocks of the window it walks, lowest first.
    std::vector<const chain::BlockIndex*> path_;
};

}  // namespace peerchain::net::peer_manager
