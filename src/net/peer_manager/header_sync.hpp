// Internal to net/peer_manager: HeaderSync, the header half of headers-first sync and of
// block announcements (docs/PROTOCOL.md 4.3 and 4.6). It asks peers for headers with
// block locators, answers their getheaders from the active chain (at the pace each peer
// reads), validates and stores the headers they send, and tells each peer of our new tips
// with headers that connect to what it is known to have, or with an inv of the tip when
// they would not (a reorg deeper than a few blocks). The block download follows the
// headers (BlockDownloader).
//
// Low-work chains: headers that fork from our tree and carry less work than our active tip
// are not stored. A full batch of them may be the start of a heavier chain (a deep reorg),
// so the peer's chain is followed by a HeadersPresync without storing it, and stored only
// once it proved to have more work than our tip; a short one is a lighter branch and is
// dropped. Either way the memory a peer can make us spend on such headers is bounded.
//
// Headers that do not connect are answered with a getheaders; they count against the peer
// only when they still do not connect after that round trip (Bitcoin Core's rule), so a
// peer that announces during its own reorg is never punished.
//
// Thread-safety: none; the chain executor only.
#pragma once

#include <span>
#include <vector>

#include "chain/chainstate.hpp"
#include "net/peer_manager/block_download.hpp"
#include "net/peer_manager/peer.hpp"
#include "net/peer_manager/peer_manager.hpp"
#include "net/peer_manager/tx_relay.hpp"

namespace peerchain::net::peer_manager {

class HeaderSync {
  public:
    HeaderSync(PeerContext& context, chain::Chainstate& chain, const Config& config,
               BlockDownloader& downloader, TxRelay& relay)
        : context_(context),
          chain_(chain),
          config_(config),
          downloader_(downloader),
          relay_(relay) {}

    // Right after the handshake: ask what the peer has past our best header, and tell it
    // our tip (the seeds' QUERY_LATEST answered unasked).
    void start(Peer& peer);
    // getheaders with a locator from `from`; unless `force`, not while one is outstanding.
    void send_getheaders(Peer& peer, const chain::BlockIndex* from, bool force);

    // Answered now, or once the peer has read what it was sent (can_serve); a newer
    // getheaders replaces one still waiting.
    void on_getheaders(Peer& peer, const wire::GetHeadersMessage& message);
    // The waiting getheaders, if the peer can take its answer now (each tick).
    void serve_deferred(Peer& peer);
    // `hashes`: each header's hash, when the caller has them (prepare_message computes them
    // on a transport thread); computed here otherwise.
    void on_headers(Peer& peer, const wire::HeadersMessage& message,
                    std::span<const core::Uint256> hashes = {});
    // The block items of an inv: a block we do not know leads to a getheaders.
    void on_inv(Peer& peer, const std::vector<wire::InvItem>& items);
    // A block arrived whose parent we do not know: ask for the headers (once per block
    // message, whatever else is outstanding; not during the peer's presync).
    void on_orphan_block(Peer& peer, const core::Uint256& hash);
    // Peers whose headers stopped at one too far in the future are asked again once our
    // clock has reached it (each tick).
    void on_tick(std::int64_t now);

    // Tells `peer` of our tip `tip` unless it is known to have it.
    void announce(Peer& peer, const chain::BlockIndex* tip);
    // `index` (if more work than what we knew) is the best block the peer has.
    void update_best_known(Peer& peer, const chain::BlockIndex* index) const;

  private:
    // Whether the peer is known to have `index` (it sent it, a descendant, or named it).
    bool peer_has(const Peer& peer, const chain::BlockIndex* index) const;
    void answer_getheaders(Peer& peer, const wire::GetHeadersMessage& message);
    // Headers whose first one's parent we do not know.
    void on_unconnecting(Peer& peer);
    // The peer's chain leaves ours at `fork` with less work than our tip.
    void on_low_work(Peer& peer, const chain::BlockIndex* fork,
                     std::vector<core::BlockHeader> headers, bool more);
    void continue_presync(Peer& peer, const std::vector<core::BlockHeader>& headers, bool more);
    // Stores headers a presync proved; false when the peer was dropped or the presync ended.
    bool store_presynced(Peer& peer, const std::vector<core::BlockHeader>& headers,
                         const chain::BlockIndex** last);
    void send_locator(Peer& peer, std::vector<core::Uint256> locator);
    // A batch stopped at a `time-too-new` header: remember when it becomes acceptable.
    void remember_future_header(Peer& peer, const std::vector<core::BlockHeader>& headers);

    PeerContext& context_;
    chain::Chainstate& chain_;
    const Config& config_;
    BlockDownloader& downloader_;
    TxRelay& relay_;
};

}  // namespace peerchain::net::peer_manager
