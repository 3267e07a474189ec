#include "chain/block_tree.hpp"

#include <random>

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

BlockTree::BlockTree()
    : salt_((std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {
    table_.assign(16, nullptr);
    shift_ = 64 - 4;
}

std::size_t BlockTree::memory_usage() const noexcept {
    return chunks_.capacity() * sizeof(chunks_[0]) + chunks_.size() * kChunk * sizeof(BlockNode) +
           table_.capacity() * sizeof(BlockNode*);
}

std::size_t BlockTree::slot_of(const core::Uint256& hash) const noexcept {
    // Fibonacci hashing of the salted bits: the top bits of the product index the table.
    return static_cast<std::size_t>(((hash.cheap_hash() ^ salt_) * 0x9E3779B97F4A7C15ull) >>
                                    shift_);
}

BlockNode* BlockTree::find(const core::Uint256& hash) noexcept {
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = slot_of(hash);; i = (i + 1) & mask) {
        BlockNode* n = table_[i];
        if (n == nullptr || n->hash == hash) return n;
    }
}

const BlockNode* BlockTree::find(const core::Uint256& hash) const noexcept {
    return const_cast<BlockTree*>(this)->find(hash);
}

void BlockTree::grow_table() {
    std::vector<BlockNode*> old(table_.size() * 2, nullptr);
    old.swap(table_);
    --shift_;
    const std::size_t mask = table_.size() - 1;
    for (BlockNode* n : old) {
        if (n == nullptr) continue;
        std::size_t i = slot_of(n->hash);
        while (table_[i] != nullptr) i = (i + 1) & mask;
        table_[i] = n;
    }
}

BlockNode* BlockTree::insert(const core::Uint256& hash, const core::BlockHeader& header,
                             BlockNode* prev, std::uint32_t status) {
    NODE_ASSERT((status & kHaveData) == 0);
    if ((size_ + 1) * 4 > table_.size() * 3) grow_table();
    if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<BlockNode[]>(kChunk));
    BlockNode& node = node_at(size_++);
    const std::size_t mask = table_.size() - 1;
    std::size_t i = slot_of(hash);
    // A copy of `hash` would sit in this run of taken slots: checked on the way.
    for (; table_[i] != nullptr; i = (i + 1) & mask) NODE_ASSERT(table_[i]->hash != hash);
    table_[i] = &node;
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

void BlockTree::set_have_data(BlockNode* node, store::FlatPos pos) {
    node->status |= kHaveData;
    node->data_pos = pos;
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
    for (std::size_t i = 0; i < size_; ++i) {
        BlockNode& n = node_at(i);
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
    for (std::size_t i = 0; i < size_; ++i) {
        BlockNode& n = node_at(i);
        if (!n.failed() && better_header(&n, best_header_)) best_header_ = &n;
    }
}

}  // namespace peerchain::chain
