#include "net/peer_manager/block_download.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace peerchain::net::peer_manager {

using chain::BlockIndex;
using core::Uint256;

void BlockDownloader::release(const Uint256& hash) {
    auto it = in_flight_.find(hash);
    if (it == in_flight_.end()) return;
    if (Peer* owner = context_.find(it->second)) owner->in_flight.erase(hash);
    in_flight_.erase(it);
}

void BlockDownloader::release_all(Peer& peer) {
    for (const auto& hash : peer.in_flight) in_flight_.erase(hash);
    peer.in_flight.clear();
    reset_cursors();
}

void BlockDownloader::reset_cursors() {
    for (auto& [id, p] : context_.peers()) p.download_cursor = nullptr;
}

void BlockDownloader::request_from_all() {
    for (auto& [id, peer] : context_.peers()) request(peer);
}

bool BlockDownloader::received(Peer& peer, const Uint256& hash) {
    const bool requested = peer.in_flight.contains(hash);
    if (requested) peer.last_block_progress = context_.now();
    release(hash);
    return requested;
}

bool BlockDownloader::not_found(Peer& peer, const std::vector<wire::InvItem>& items) {
    bool released = false;
    for (const auto& item : items) {
        if (item.type != wire::InvType::kBlock || !peer.in_flight.contains(item.hash)) continue;
        release(item.hash);
        // Not asked again from this peer; others may have it.
        if (peer.not_found.size() >= config_.max_getdata_blocks) peer.not_found.clear();
        peer.not_found.insert(item.hash);
        released = true;
    }
    if (released) {
        reset_cursors();
        request_from_all();
    }
    return released;
}

std::optional<std::string> BlockDownloader::stalling(const Peer& peer, std::int64_t now) const {
    if (peer.in_flight.empty() ||
        now - peer.last_block_progress < config_.block_stall_timeout.count()) {
        return std::nullopt;
    }
    return "stalling: " + std::to_string(peer.in_flight.size()) +
           " blocks in flight, none delivered in " +
           std::to_string(now - peer.last_block_progress) + " s";
}

// Bitcoin's FindNextBlocksToDownload, simplified: walk the peer's best chain from where it
// leaves ours, at most block_download_window blocks ahead, and ask for the blocks nobody
// is fetching, up to the peer's in-flight limit.
void BlockDownloader::request(Peer& peer) {
    if (!peer.active()) return;
    // With a deep window (a node with one peer lets it fill the whole of it), refilling
    // slot by slot would cost both sides a getdata message and this walk for every block
    // received (issue 10): ask again once a sixteenth of the slots is free, or the peer
    // has nothing in flight. The blocks in flight keep the link busy meanwhile.
    // The same holds for the window as a whole: with two peers, where one holds most of
    // it, each freed slot went to the other in a getdata of its own.
    const std::size_t batch = std::max<std::size_t>(1, config_.max_blocks_in_flight / 16);
    if (!peer.in_flight.empty() && (peer.in_flight.size() + batch > config_.max_blocks_in_flight ||
                                    in_flight_.size() + batch > config_.block_download_window)) {
        return;
    }
    const BlockIndex* target = peer.best_known;
    const BlockIndex* tip = chain_.tip();
    if (target == nullptr || target->chain_work <= tip->chain_work) return;
    // The blocks' status is read straight from them, without the chain's lock: it changes
    // on this thread only (chain/block_index.hpp), and this walk reads it up to a thousand
    // times a call (the lock was 3% of the chain executor in a 1,000,000-block sync).
    if (target->failed()) return;
    const BlockIndex* fork = chain::last_common_ancestor(tip, target);
    // The window starts past the blocks of the target's chain we already have, not at the
    // fork: a branch deeper than the window is fetched while it is still lighter than our
    // tip, which it must be until its last blocks arrive.
    const BlockIndex* common = peer.last_common;
    if (common == nullptr || common->height < fork->height || common->height > target->height ||
        target->ancestor(common->height) != common) {
        common = fork;
    }
    // The stored blocks past `common`, found from the download cursor when it is on the
    // target's chain above them: a short skip-list walk per block instead of one from the
    // target, a million blocks up.
    const BlockIndex* cursor = peer.download_cursor;
    if (cursor != nullptr && (cursor->height <= common->height || cursor->height > target->height ||
                              target->ancestor(cursor->height) != cursor)) {
        cursor = nullptr;
    }
    while (common->height < target->height) {
        const BlockIndex* from =
            cursor != nullptr && cursor->height > common->height ? cursor : target;
        const BlockIndex* next = from->ancestor(common->height + 1);
        if ((next->status & chain::kHaveData) == 0) break;
        common = next;
    }
    peer.last_common = common;
    const std::uint32_t end_height = std::min<std::uint64_t>(
        target->height, std::uint64_t{common->height} + config_.block_download_window);
    const BlockIndex* start =
        cursor != nullptr && cursor->height > common->height ? cursor : common;
    if (end_height <= start->height) return;
    // The blocks above `start`, lowest first: one skip-list walk to the end of the window
    // and parent pointers back, not a walk from the target for every height (a profile of
    // a sync had this loop's ancestor() calls at 4% of the chain executor).
    path_.resize(end_height - start->height);
    {
        const BlockIndex* b = target->ancestor(end_height);
        for (std::size_t i = path_.size(); i-- > 0; b = b->prev) path_[i] = b;
    }
    wire::GetDataMessage request;
    const bool was_idle = peer.in_flight.empty();
    bool contiguous = true;  // everything from the fork up to here is stored or in flight
    for (const BlockIndex* b : path_) {
        const auto status = b->status;
        if ((status & (chain::kFailedValid | chain::kFailedChild)) != 0) break;
        if ((status & chain::kHaveData) == 0 && !in_flight_.contains(b->hash)) {
            if (peer.not_found.contains(b->hash) ||
                peer.in_flight.size() >= config_.max_blocks_in_flight) {
                contiguous = false;
                if (peer.in_flight.size() >= config_.max_blocks_in_flight) break;
                continue;
            }
            in_flight_[b->hash] = peer.id;
            peer.in_flight.insert(b->hash);
            request.items.push_back({wire::InvType::kBlock, b->hash});
        }
        if (contiguous) peer.download_cursor = b;
    }
    if (request.items.empty()) return;
    if (was_idle) peer.last_block_progress = context_.now();
    spdlog::debug("p2p: requesting {} blocks from peer {} (after height {})", request.items.size(),
                  peer.id, start->height);
    context_.send(peer, request);
}

}  // namespace peerchain::net::peer_manager
