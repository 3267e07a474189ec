#include "net/peer_manager/header_sync.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "core/pow.hpp"

namespace peerchain::net::peer_manager {

using chain::BlockIndex;

void HeaderSync::start(Peer& peer) {
    send_getheaders(peer, chain_.best_header(), true);
    const BlockIndex* tip = chain_.tip();
    context_.send(peer, wire::HeadersMessage{{tip->header}});
    peer.best_header_sent = tip;
}

void HeaderSync::send_locator(Peer& peer, std::vector<core::Uint256> locator) {
    if (locator.size() > wire::kMaxLocatorHashes) {
        // Never happens below height 2^90, but keep genesis last if it does.
        locator[wire::kMaxLocatorHashes - 1] = locator.back();
        locator.resize(wire::kMaxLocatorHashes);
    }
    context_.send(peer, wire::GetHeadersMessage{std::move(locator), core::Uint256()});
    peer.getheaders_sent_at = context_.now();
}

void HeaderSync::send_getheaders(Peer& peer, const BlockIndex* from, bool force) {
    const std::int64_t t = context_.now();
    if (!force && peer.getheaders_sent_at >= 0 &&
        t - peer.getheaders_sent_at < config_.getheaders_timeout.count()) {
        // One is on its way. Messages on a link stay in order, so what made us ask was sent
        // before the peer saw that one: its answer covers it.
        return;
    }
    send_locator(peer, chain_.locator(from));
}

// --- Serving --------------------------------------------------------------------------------

void HeaderSync::on_getheaders(Peer& peer, const wire::GetHeadersMessage& m) {
    if (peer.deferred_getheaders || !context_.can_serve(peer)) {
        // An honest peer has one getheaders out at a time; a newer one supersedes it.
        peer.deferred_getheaders = m;
        return;
    }
    answer_getheaders(peer, m);
}

void HeaderSync::serve_deferred(Peer& peer) {
    if (!peer.deferred_getheaders || !context_.can_serve(peer)) return;
    const wire::GetHeadersMessage m = std::move(*peer.deferred_getheaders);
    peer.deferred_getheaders.reset();
    answer_getheaders(peer, m);
}

void HeaderSync::answer_getheaders(Peer& peer, const wire::GetHeadersMessage& m) {
    const BlockIndex* fork = chain_.find_fork(m.locator);
    // The locator shows what the peer has: no need to announce those blocks to it.
    update_best_known(peer, fork);
    const BlockIndex* tip = chain_.tip();
    wire::HeadersMessage reply;
    if (tip->height > fork->height) {
        const std::uint32_t count = static_cast<std::uint32_t>(
            std::min<std::size_t>(config_.max_headers_per_message, tip->height - fork->height));
        const BlockIndex* end = chain_.at_height(fork->height + count);
        reply.headers.resize(count);
        const BlockIndex* b = end;
        for (std::uint32_t i = count; i > 0; --i, b = b->prev) reply.headers[i - 1] = b->header;
        if (!m.stop_hash.is_zero()) {
            for (std::size_t i = 0; i < reply.headers.size(); ++i) {
                if (reply.headers[i].hash() == m.stop_hash) {
                    reply.headers.resize(i + 1);
                    end = end->ancestor(fork->height + static_cast<std::uint32_t>(i + 1));
                    break;
                }
            }
        }
        if (!peer.best_header_sent || end->chain_work > peer.best_header_sent->chain_work) {
            peer.best_header_sent = end;
        }
    }
    peer.served_this_tick += 3 + reply.headers.size() * core::kHeaderSize;
    context_.send(peer, reply);
    // Its locator may show it has caught up with us.
    relay_.maybe_request_mempool(peer);
}

// --- Receiving ------------------------------------------------------------------------------

void HeaderSync::on_headers(Peer& peer, const wire::HeadersMessage& m,
                            std::span<const core::Uint256> hashes) {
    const auto& headers = m.headers;
    std::vector<core::Uint256> computed;
    if (hashes.size() != headers.size()) {
        computed.reserve(headers.size());
        for (const auto& header : headers) computed.push_back(header.hash());
        hashes = computed;
    }
    for (std::size_t i = 1; i < headers.size(); ++i) {
        if (headers[i].prev_hash != hashes[i - 1]) {
            context_.drop(peer, "non-continuous headers", true);
            return;
        }
    }
    // A full batch means there is more; so does a batch that ends below the height the
    // peer claimed at the handshake (its batch limit may be smaller than ours).
    const bool full = headers.size() >= config_.max_headers_per_message;

    if (peer.presync &&
        (headers.empty() || headers.front().prev_hash == peer.presync->expected_prev())) {
        const std::uint64_t at =
            peer.presync->fork()->height +
            (peer.presync->redownloading() ? peer.presync->redownloaded() : peer.presync->count()) +
            headers.size();
        peer.getheaders_sent_at = -1;
        continue_presync(peer, headers, full || at < peer.version.best_height);
        return;
    }
    if (headers.empty()) {
        peer.getheaders_sent_at = -1;  // it has nothing more for us
        relay_.maybe_request_mempool(peer);
        return;
    }
    const BlockIndex* parent = chain_.lookup(headers.front().prev_hash);
    if (parent == nullptr) {
        on_unconnecting(peer);
        return;
    }
    peer.unconnecting_headers = 0;

    // Skip what we have: the last header we know is where the new ones leave our tree.
    std::size_t first_new = 0;
    const BlockIndex* fork = parent;
    while (first_new < headers.size()) {
        const BlockIndex* known = chain_.lookup(hashes[first_new]);
        if (known == nullptr) break;
        fork = known;
        ++first_new;
    }
    const bool more = full || fork->height + (headers.size() - first_new) <
                                  std::uint64_t{peer.version.best_height};
    if (first_new < headers.size()) {
        core::ArithUint256 work = fork->chain_work;
        for (std::size_t i = first_new; i < headers.size(); ++i) {
            work += core::block_work(headers[i].bits);
        }
        const core::ArithUint256& tip_work = chain_.tip()->chain_work;
        if (work < tip_work || (work == tip_work && more)) {
            on_low_work(peer, fork,
                        std::vector<core::BlockHeader>(headers.begin() + first_new, headers.end()),
                        more);
            return;
        }
    }

    const BlockIndex* last = nullptr;
    const auto result = chain_.process_headers(headers, &last, hashes);
    switch (result.code) {
        case core::ValidationCode::kTimeFuture:  // keep what came before it; no punishment
            remember_future_header(peer, headers);
            break;
        case core::ValidationCode::kOk:
        case core::ValidationCode::kDuplicate:
        case core::ValidationCode::kPolicy:
            break;
        case core::ValidationCode::kMissingPrev:  // checked above; kept for completeness
            on_unconnecting(peer);
            return;
        case core::ValidationCode::kInvalid:
            context_.drop(peer, "invalid header: " + result.to_string(), true);
            return;
        case core::ValidationCode::kInternal:
            spdlog::error("p2p: peer {}: storing headers failed: {}", peer.id, result.to_string());
            return;
    }
    peer.getheaders_sent_at = -1;
    if (last == nullptr) return;
    update_best_known(peer, last);
    if ((result.is_ok() || result.code == core::ValidationCode::kDuplicate) && more) {
        if (full) spdlog::debug("p2p: headers sync from peer {}: height {}", peer.id, last->height);
        send_getheaders(peer, last, true);
    }
    downloader_.request(peer);
    relay_.maybe_request_mempool(peer);
}

void HeaderSync::on_unconnecting(Peer& peer) {
    const std::int64_t t = context_.now();
    if (peer.getheaders_sent_at >= 0 &&
        t - peer.getheaders_sent_at < config_.getheaders_timeout.count()) {
        // Our getheaders is on its way: these were sent before the peer saw it (it
        // announces while it reorganises, say), and its answer will place them.
        spdlog::debug("p2p: peer {}: headers that do not connect, while our getheaders is out",
                      peer.id);
        return;
    }
    // Headers we cannot place: the peer is on a chain we do not know (the seeds' "query
    // all"). Ask with our locator. Only a peer that keeps doing it after being answered is
    // misbehaving.
    if (++peer.unconnecting_headers > config_.max_unconnecting_headers) {
        context_.drop(peer,
                      "too many headers that do not connect (" +
                          std::to_string(config_.max_unconnecting_headers) +
                          " getheaders answered)",
                      true);
        return;
    }
    send_getheaders(peer, chain_.best_header(), true);
}

void HeaderSync::on_low_work(Peer& peer, const BlockIndex* fork,
                             std::vector<core::BlockHeader> headers, bool more) {
    update_best_known(peer, fork);
    if (!more) {
        // A branch lighter than ours that ends here (a peer behind us on a fork): nothing to
        // store, nothing to punish.
        spdlog::debug(
            "p2p: peer {}: {} headers of a branch with less work than our tip, from "
            "height {}: not stored",
            peer.id, headers.size(), fork->height);
        peer.getheaders_sent_at = -1;
        return;
    }
    spdlog::info(
        "p2p: peer {} has a chain that leaves ours at height {} with less work so far: "
        "following it without storing it until it has more (headers presync)",
        peer.id, fork->height);
    peer.presync = std::make_unique<HeadersPresync>(chain_.params(), fork, chain_.locator(fork));
    continue_presync(peer, headers, more);
}

void HeaderSync::continue_presync(Peer& peer, const std::vector<core::BlockHeader>& headers,
                                  bool more) {
    HeadersPresync& presync = *peer.presync;
    auto outcome = presync.process(headers, chain_.tip()->chain_work, context_.now(), more);
    using Kind = HeadersPresync::Outcome::Kind;
    const BlockIndex* last = nullptr;
    switch (outcome.kind) {
        case Kind::kRedownload:
            spdlog::info(
                "p2p: peer {}: its chain has more work than our tip {} headers past "
                "height {}; downloading it again to store it",
                peer.id, presync.target_count(), presync.fork()->height);
            [[fallthrough]];
        case Kind::kContinue:
            send_locator(peer, presync.locator());
            return;
        case Kind::kStore:
            if (!store_presynced(peer, outcome.headers_to_store, &last)) return;
            send_locator(peer, presync.locator());
            return;
        case Kind::kFinished:
            if (!store_presynced(peer, outcome.headers_to_store, &last)) return;
            spdlog::info("p2p: peer {}: headers presync done; its chain is stored up to height {}",
                         peer.id, last != nullptr ? last->height : 0);
            peer.presync.reset();
            if (last != nullptr && last->height < peer.version.best_height) {
                send_getheaders(peer, last, true);
            } else {
                peer.getheaders_sent_at = -1;
            }
            downloader_.request(peer);
            return;
        case Kind::kAbandoned:
            spdlog::info("p2p: peer {}: headers presync from height {} ended, nothing stored: {}",
                         peer.id, presync.fork()->height, outcome.reason);
            if (outcome.reason == "time-too-new") remember_future_header(peer, headers);
            peer.presync.reset();
            peer.getheaders_sent_at = -1;
            return;
        case Kind::kFailed: {
            // A chain that breaks the rules is misbehaviour; a redownload that differs from
            // the first pass may be an honest peer that reorganised in between (Bitcoin
            // Core abandons without punishment too): it is disconnected, not discouraged.
            const bool misbehaving = outcome.reason != "presync-mismatch";
            spdlog::debug("p2p: peer {}: headers presync failed: {} ({})", peer.id, outcome.reason,
                          outcome.detail);
            peer.presync.reset();
            context_.drop(peer, "headers presync: " + outcome.reason, misbehaving);
            return;
        }
    }
}

bool HeaderSync::store_presynced(Peer& peer, const std::vector<core::BlockHeader>& headers,
                                 const BlockIndex** last) {
    if (headers.empty()) return true;
    const auto result = chain_.process_headers(headers, last);
    switch (result.code) {
        case core::ValidationCode::kOk:
        case core::ValidationCode::kDuplicate:
            update_best_known(peer, *last);
            return true;
        case core::ValidationCode::kInvalid:
            peer.presync.reset();
            context_.drop(peer, "invalid header: " + result.to_string(), true);
            return false;
        default:
            // The clock went back (time-too-new now) or the store failed: start over later.
            spdlog::info("p2p: peer {}: presynced headers not stored: {}", peer.id,
                         result.to_string());
            if (*last != nullptr) update_best_known(peer, *last);
            peer.presync.reset();
            peer.getheaders_sent_at = -1;
            return false;
    }
}

void HeaderSync::on_inv(Peer& peer, const std::vector<wire::InvItem>& items) {
    const bool unknown_block = std::any_of(items.begin(), items.end(), [&](const auto& item) {
        return item.type == wire::InvType::kBlock && chain_.lookup(item.hash) == nullptr;
    });
    if (unknown_block && !peer.presync) send_getheaders(peer, chain_.best_header(), false);
}

// Issue 9: asking only when nothing was outstanding left a peer that had not answered our
// first getheaders with every new block dropped, silently, for up to 60 s. One getheaders
// per block message received (a block costs its sender proof of work before it can get
// here, and our locator is a few dozen hashes, never more than 101) keeps the cost
// bounded without waiting.
void HeaderSync::on_orphan_block(Peer& peer, const core::Uint256& hash) {
    if (peer.presync) {
        // The presync has its own getheaders out, from the last header it checked on this
        // very chain; an answer to another locator would be taken for the next presync
        // batch (restarting it, or ending it as lighter), and its answer brings the
        // block's ancestors anyway.
        spdlog::debug(
            "p2p: peer {}: block {} dropped: parent unknown; its headers presync is under "
            "way, so no other getheaders",
            peer.id, short_hash(hash));
        return;
    }
    spdlog::debug("p2p: peer {}: block {} dropped: parent unknown; asking for headers", peer.id,
                  short_hash(hash));
    send_getheaders(peer, chain_.best_header(), true);
}

void HeaderSync::remember_future_header(Peer& peer, const std::vector<core::BlockHeader>& headers) {
    const std::int64_t now = context_.now();
    for (const auto& header : headers) {
        // The first header past the drift is the one the batch stopped at.
        const std::int64_t at = std::int64_t{header.time} - chain_.params().max_future_drift;
        if (at <= now) continue;
        if (at - now > config_.max_future_wait.count()) {
            spdlog::debug(
                "p2p: peer {}: headers stop at {}, {} s too far in the future; not asked again",
                peer.id, short_hash(header.hash()), at - now);
            return;
        }
        // One pending per peer: a later batch's replaces it.
        peer.future_headers_at = at;
        spdlog::debug(
            "p2p: peer {}: headers stop at {}, too far in the future; asking again in {} s",
            peer.id, short_hash(header.hash()), at - now);
        return;
    }
}

void HeaderSync::on_tick(std::int64_t now) {
    for (auto& [id, peer] : context_.peers()) {
        if (!peer.active() || peer.future_headers_at < 0 || now < peer.future_headers_at) continue;
        peer.future_headers_at = -1;
        if (!peer.presync) send_getheaders(peer, chain_.best_header(), true);
    }
}

// --- Announcing -----------------------------------------------------------------------------

bool HeaderSync::peer_has(const Peer& peer, const BlockIndex* index) const {
    if (index == nullptr) return true;
    for (const BlockIndex* known : {peer.best_known, peer.best_header_sent}) {
        if (known != nullptr && known->height >= index->height &&
            known->ancestor(index->height) == index) {
            return true;
        }
    }
    return false;
}

void HeaderSync::update_best_known(Peer& peer, const BlockIndex* index) const {
    if (index == nullptr) return;
    if (peer.best_known == nullptr || index->chain_work > peer.best_known->chain_work) {
        peer.best_known = index;
    }
}

// Headers that connect to what the peer has, newest last; when the tip is further from it
// than max_announce_headers (a deep reorg), an inv of the tip instead, which the peer
// answers with a getheaders from its own locator (Bitcoin Core does the same). A lone
// header that does not connect would make an honest follower count us as misbehaving.
void HeaderSync::announce(Peer& peer, const BlockIndex* tip) {
    if (peer_has(peer, tip)) return;
    std::vector<core::BlockHeader> headers;
    const BlockIndex* b = tip;
    while (b != nullptr && !peer_has(peer, b) && headers.size() < config_.max_announce_headers) {
        headers.push_back(b->header);
        b = b->prev;
    }
    if (b != nullptr && !peer_has(peer, b)) {
        context_.send(peer, wire::InvMessage{{{wire::InvType::kBlock, tip->hash}}});
    } else {
        std::reverse(headers.begin(), headers.end());
        context_.send(peer, wire::HeadersMessage{std::move(headers)});
    }
    peer.best_header_sent = tip;
}

}  // namespace peerchain::net::peer_manager
