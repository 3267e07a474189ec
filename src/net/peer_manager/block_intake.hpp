// Internal to net/peer_manager: BlockIntake, what the node does with a `block` message
// (docs/PROTOCOL.md 4.4, "On block"): it filters unasked blocks of lighter branches, hands
// the rest to the Chainstate, and acts on the verdict for the sender: credit, a getheaders
// for a block whose parent we lack, a disconnect for an invalid one. Blocks refused as
// `time-too-new` are kept in FutureBlocks and processed again once our clock reaches them,
// and their sender gets a `reject` (issue 9). Every block it does not store is logged with
// the reason.
//
// Thread-safety: none; the chain executor only.
#pragma once

#include <cstdint>

#include "chain/chainstate.hpp"
#include "net/peer_manager/block_download.hpp"
#include "net/peer_manager/future_blocks.hpp"
#include "net/peer_manager/header_sync.hpp"
#include "net/peer_manager/peer.hpp"
#include "net/peer_manager/peer_manager.hpp"

namespace peerchain::net::peer_manager {

class BlockIntake {
  public:
    BlockIntake(PeerContext& context, chain::Chainstate& chain, const Config& config,
                BlockDownloader& downloader, HeaderSync& headers);

    // A block message from a peer past the handshake.
    // `checked` is core::check_block_alone of the block.
    void on_block(Peer& peer, const core::CheckedBlock& checked);
    // Kept blocks whose time our clock has reached are processed again, with their sender
    // as the peer if it is still connected, else for nobody (each tick).
    void on_tick(std::int64_t now);

    std::size_t future_blocks() const { return future_.size(); }

  private:
    // `peer` is the sender, or nullptr when it is gone; `from` its id for the log. At most
    // one reject goes out, and only for a block from the wire (`from_wire`).
    void process(Peer* peer, PeerId from, const core::CheckedBlock& checked, bool from_wire);
    // A time-too-new block: kept if it fits; its sender hears why when `from_wire`.
    void keep_future(Peer* peer, PeerId from, const core::BlockPtr& block,
                     const core::Uint256& hash, bool from_wire);

    PeerContext& context_;
    chain::Chainstate& chain_;
    BlockDownloader& downloader_;
    HeaderSync& headers_;
    FutureBlocks future_;
};

}  // namespace peerchain::net::peer_manager
