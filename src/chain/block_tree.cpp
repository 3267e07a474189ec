#include "chain/block_tree.hpp"

#include "core/pow.hpp"
#include "util/assert.hpp"

namespace peerchain::chain {

namespace {

bool better_header(const BlockNode* a, const BlockNode* b) noexcept {
    if (b == nullptr) return true;
    if (a->chain_work != b->chain_work) return a->chain_work > b->chain_work;
    return a->sequence < b->sequence;
}

}  // namespace

BlockNode* BlockTree::find(const core::Uint256& hash) noexcept {
    auto it = nodes_.find(hash);
    return it == nodes_.end() ? nullptr : &it->second;
}

const BlockNode* BlockTree::find(const core::Uint256& hash) const noexcept {
    auto it = nodes_.find(hash);
    return it == nodes_.end() ? nullptr : &it->second;
}

BlockNode* BlockTree::insert(const core::Uint256& hash, const core::BlockHeader& header,
                             BlockNode* prev, std::uint32_t status) {
    NODE_ASSERT((status & kHaveData) == 0);
    auto [it, inserted] = nodes_.try_emplace(hash);
    NODE_ASSERT(inserted);
    BlockNode& node = it->second;
    node.hash = hash;
    node.header = header;
    node.prev = prev;
    node.height = prev == nullptr ? 0 : prev->height + 1;
    node.skip = prev == nullptr ? nullptr : prev->ancestor(skip_height(node.height));
    node.chain_work = core::block_work(header.bits);
    if (prev != nullptr) node.chain_work += prev->chain_work;
    node.status = status;
    node.sequence = next_sequence_++;
    if (!node.failed() && better_header(&node, best_header_)) best_header_ = &node;
    return &node;
}

void BlockTree::set_have_data(BlockNode* node) {
    node->status |= kHaveData;
    if (node->linked) return;
    const auto* parent = static_cast<const BlockNode*>(node->prev);
    if (parent == nullptr || parent->linked) {
        link(node);
    } else {
        unlinked_.emplace(parent, node);
    }
}

void BlockTree::link(BlockNode* node) {
    std::vector<BlockNode*> queue{node};
    while (!queue.empty()) {
        BlockNode* n = queue.back();
        queue.pop_back();
        n->linked = true;
        add_candidate(n);
        auto [begin, end] = unlinked_.equal_range(n);
        for (auto it = begin; it != end; ++it) queue.push_back(it->second);
        unlinked_.erase(begin, end);
    }
}

BlockNode* BlockTree::best_candidate() const noexcept {
    return candidates_.empty() ? nullptr : *candidates_.begin();
}

void BlockTree::add_candidate(BlockNode* node) {
    if (node->linked && !node->failed()) candidates_.insert(node);
}

void BlockTree::prune_candidates(const BlockIndex* tip) {
    // Ordered by work, most first: everything from the first lighter block on goes.
    for (auto it = candidates_.begin(); it != candidates_.end(); ++it) {
        if ((*it)->chain_work < tip->chain_work) {
            candidates_.erase(it, candidates_.end());
            return;
        }
    }
}

std::vector<BlockNode*> BlockTree::mark_failed(BlockNode* node) {
    std::vector<BlockNode*> changed;
    if ((node->status & kFailedValid) == 0) {
        node->status |= kFailedValid;
        changed.push_back(node);
    }
    candidates_.erase(node);
    for (auto& [hash, n] : nodes_) {
        if (n.height <= node->height || n.ancestor(node->height) != node) continue;
        candidates_.erase(&n);
        if ((n.status & kFailedChild) == 0) {
            n.status |= kFailedChild;
            changed.push_back(&n);
        }
    }
    if (best_header_ != nullptr && best_header_->failed()) recompute_best_header();
    return changed;
}

void BlockTree::recompute_best_header() {
    best_header_ = nullptr;
    for (auto& [hash, n] : nodes_) {
        if (!n.failed() && better_header(&n, best_header_)) best_header_ = &n;
    }
}

}  // namespace peerchain::chain
