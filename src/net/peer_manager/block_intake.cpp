#include "net/peer_manager/block_intake.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "core/pow.hpp"

namespace peerchain::net::peer_manager {

using chain::BlockIndex;
using core::Uint256;

BlockIntake::BlockIntake(PeerContext& context, chain::Chainstate& chain, const Config& config,
                         BlockDownloader& downloader, HeaderSync& headers)
    : context_(context),
      chain_(chain),
      downloader_(downloader),
      headers_(headers),
      future_(FutureBlockLimits{config.max_future_blocks, config.max_future_block_bytes,
                                config.max_future_wait}) {}

void BlockIntake::on_block(Peer& peer, const core::CheckedBlock& checked) {
    process(&peer, peer.id, checked, true);
    downloader_.request(peer);
}

void BlockIntake::on_tick(std::int64_t now) {
    for (auto& entry : future_.take_ready(now)) {
        Peer* peer = context_.find(entry.from);
        if (peer != nullptr && !peer->active()) peer = nullptr;
        spdlog::debug("p2p: block {} from peer {} is no longer too new; processing it again",
                      short_hash(entry.hash), entry.from);
        process(peer, entry.from, core::check_block_alone(entry.block, chain_.params()), false);
        if (peer != nullptr) downloader_.request(*peer);
    }
}

void BlockIntake::process(Peer* peer, PeerId from, const core::CheckedBlock& checked,
                          bool from_wire) {
    const core::BlockPtr& block = checked.block;
    const Uint256& hash = checked.hash;
    const bool asked = peer != nullptr && from_wire && downloader_.received(*peer, hash);
    if (!asked && chain_.lookup(hash) == nullptr) {
        // Unasked, on a branch we have not accepted headers of: stored only when it brings
        // at least as much work as our tip (Bitcoin Core's AcceptBlock does the same), so a
        // peer cannot fill our disk with cheap blocks of a lighter branch.
        const BlockIndex* parent = chain_.lookup(block->header.prev_hash);
        if (parent != nullptr &&
            parent->chain_work + core::block_work(block->header.bits) < chain_.tip()->chain_work) {
            spdlog::debug(
                "p2p: peer {}: block {} dropped: unrequested, with less work than our tip", from,
                short_hash(hash));
            return;
        }
    }

    bool is_new = false;
    // May call on_tip_changed (through the node's event bus) before it returns.
    const auto result = chain_.process_block(checked, &is_new);
    switch (result.code) {
        case core::ValidationCode::kOk:
        case core::ValidationCode::kDuplicate:
            if (!is_new) {
                spdlog::debug("p2p: peer {}: block {} dropped: already stored", from,
                              short_hash(hash));
            }
            if (peer != nullptr) {
                if (is_new) peer->last_block_at = context_.now();
                headers_.update_best_known(*peer, chain_.lookup(hash));
            }
            return;
        case core::ValidationCode::kInvalid:
            if (peer != nullptr) {
                context_.drop(*peer, invalid_reason("invalid block", hash, result), true);
            } else {
                spdlog::info("p2p: block {} from peer {} (gone) dropped: invalid: {}",
                             short_hash(hash), from, result.to_string());
            }
            return;
        case core::ValidationCode::kMissingPrev:
            // An unasked block on a chain we do not know: get the headers first.
            if (peer != nullptr) {
                headers_.on_orphan_block(*peer, hash);
            } else {
                spdlog::debug("p2p: block {} from peer {} (gone) dropped: parent unknown",
                              short_hash(hash), from);
            }
            return;
        case core::ValidationCode::kTimeFuture:
            keep_future(peer, from, block, hash, from_wire);
            return;
        case core::ValidationCode::kPolicy:
            spdlog::debug("p2p: peer {}: block {} dropped: {}", from, short_hash(hash),
                          result.to_string());
            return;
        case core::ValidationCode::kInternal:
            spdlog::error("p2p: peer {}: storing block {} failed: {}", from, hash.to_hex(),
                          result.to_string());
            return;
    }
}

void BlockIntake::keep_future(Peer* peer, PeerId from, const core::BlockPtr& block,
                              const Uint256& hash, bool from_wire) {
    const std::int64_t now = context_.now();
    const std::int64_t time = block->header.time;
    const std::int64_t at = time - chain_.params().max_future_drift;
    std::vector<FutureBlocks::Entry> evicted;
    const auto added = future_.add(block, hash, block->serialized_size(), from, at, now, &evicted);
    for (const auto& e : evicted) {
        spdlog::debug(
            "p2p: block {} from peer {} dropped: too far in the future, and blocks due sooner "
            "need the room",
            short_hash(e.hash), e.from);
    }
    std::string outcome;
    switch (added) {
        case FutureBlocks::Added::kKept:
        case FutureBlocks::Added::kDuplicate:
            outcome = "kept; processed again in " + std::to_string(at - now) + " s";
            spdlog::debug("p2p: peer {}: block {} too far in the future (time {}): {}", from,
                          short_hash(hash), time, outcome);
            break;
        case FutureBlocks::Added::kTooFar:
            outcome = "not kept: acceptable only in " + std::to_string(at - now) + " s";
            spdlog::debug("p2p: peer {}: block {} dropped: too far in the future (time {}), {}",
                          from, short_hash(hash), time, outcome);
            break;
        case FutureBlocks::Added::kNoRoom:
            outcome = "not kept: no room for blocks due this late";
            spdlog::debug("p2p: peer {}: block {} dropped: too far in the future (time {}), {}",
                          from, short_hash(hash), time, outcome);
            break;
    }
    // Tells a peer whose clock runs ahead why its block is not on our chain yet (issue 9):
    // informative only; a time-too-new block is never punished.
    if (from_wire && peer != nullptr) {
        context_.send(*peer, wire::make_reject(
                                 wire::InvType::kBlock, hash, "time-too-new",
                                 "block time " + std::to_string(time) + " is more than " +
                                     std::to_string(chain_.params().max_future_drift) +
                                     " s past our clock " + std::to_string(now) + "; " + outcome));
    }
}

}  // namespace peerchain::net::peer_manager
