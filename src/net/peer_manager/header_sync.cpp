#include "net/peer_manager/header_sync.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace peerchain::net::peer_manager {

using chain::BlockIndex;

void HeaderSync::start(Peer& peer) {
    send_getheaders(peer, chain_.best_header(), true);
    const BlockIndex* tip = chain_.tip();
    context_.send(peer, wire::HeadersMessage{{tip->header}});
    peer.best_header_sent = tip;
}

void HeaderSync::send_getheaders(Peer& peer, const BlockIndex* from, bool force) {
    const std::int64_t t = context_.now();
    if (!force && peer.getheaders_sent_at >= 0 &&
        t - peer.getheaders_sent_at < config_.getheaders_timeout.count()) {
        return;  // one is on its way; its answer reaches at least as far
    }
    wire::GetHeadersMessage m;
    m.locator = chain_.locator(from);
    if (m.locator.size() > wire::kMaxLocatorHashes) {
        // Never happens below height 2^90, but keep genesis last if it does.
        m.locator[wire::kMaxLocatorHashes - 1] = m.locator.back();
        m.locator.resize(wire::kMaxLocatorHashes);
    }
    context_.send(peer, m);
    peer.getheaders_sent_at = t;
}

void HeaderSync::on_getheaders(Peer& peer, const wire::GetHeadersMessage& m) {
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
    context_.send(peer, reply);
}

void HeaderSync::on_headers(Peer& peer, const wire::HeadersMessage& m) {
    if (m.headers.empty()) {
        peer.getheaders_sent_at = -1;  // it has nothing more for us
        relay_.maybe_request_mempool(peer);
        return;
    }
    for (std::size_t i = 1; i < m.headers.size(); ++i) {
        if (m.headers[i].prev_hash != m.headers[i - 1].hash()) {
            context_.drop(peer, "non-continuous headers", true);
            return;
        }
    }
    const BlockIndex* last = nullptr;
    const auto result = chain_.process_headers(m.headers, &last);
    switch (result.code) {
        case core::ValidationCode::kOk:
        case core::ValidationCode::kDuplicate:
        case core::ValidationCode::kTimeFuture:  // keep what came before it; no punishment
        case core::ValidationCode::kPolicy:
            break;
        case core::ValidationCode::kMissingPrev:
            // Headers we cannot place: the peer is on a chain we do not know (the seeds'
            // "query all"). Ask with our locator; bounded so that it cannot keep us busy.
            if (++peer.unconnecting_headers > config_.max_unconnecting_headers) {
                context_.drop(peer, "too many headers that do not connect", true);
                return;
            }
            send_getheaders(peer, chain_.best_header(), false);
            return;
        case core::ValidationCode::kInvalid:
            context_.drop(peer, "invalid header: " + result.to_string(), true);
            return;
        case core::ValidationCode::kInternal:
            spdlog::error("p2p: peer {}: storing headers failed: {}", peer.id, result.to_string());
            return;
    }
    peer.getheaders_sent_at = -1;
    peer.unconnecting_headers = 0;
    if (last == nullptr) return;
    update_best_known(peer, last);

    // A full batch means there is more; so does a batch that ends below the height the
    // peer claimed at the handshake (its batch limit may be smaller than ours).
    const bool full = m.headers.size() >= config_.max_headers_per_message;
    if (result.is_ok() || result.code == core::ValidationCode::kDuplicate) {
        if (full || last->height < peer.version.best_height) {
            if (full) {
                spdlog::info("p2p: headers sync from peer {}: height {}", peer.id, last->height);
            }
            send_getheaders(peer, last, true);
        }
    }
    downloader_.request(peer);
    relay_.maybe_request_mempool(peer);
}

void HeaderSync::on_inv(Peer& peer, const std::vector<wire::InvItem>& items) {
    const bool unknown_block = std::any_of(items.begin(), items.end(), [&](const auto& item) {
        return item.type == wire::InvType::kBlock && chain_.lookup(item.hash) == nullptr;
    });
    if (unknown_block) send_getheaders(peer, chain_.best_header(), false);
}

void HeaderSync::on_orphan_block(Peer& peer) { send_getheaders(peer, chain_.best_header(), false); }

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

void HeaderSync::announce(Peer& peer, const BlockIndex* tip) {
    if (peer_has(peer, tip)) return;
    std::vector<core::BlockHeader> headers;
    const BlockIndex* b = tip;
    while (b != nullptr && !peer_has(peer, b) && headers.size() < config_.max_announce_headers) {
        headers.push_back(b->header);
        b = b->prev;
    }
    if (b != nullptr && !peer_has(peer, b)) {
        // Too far from what it knows: the tip alone; it asks for the rest with getheaders.
        headers.assign(1, tip->header);
    } else {
        std::reverse(headers.begin(), headers.end());
    }
    context_.send(peer, wire::HeadersMessage{std::move(headers)});
    peer.best_header_sent = tip;
}

}  // namespace peerchain::net::peer_manager
