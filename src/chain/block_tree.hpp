// BlockTree: the in-memory tree of every header the chain knows (BlockIndex nodes with the
// bookkeeping only the Chainstate needs), the best header, and the candidates for the tip.
//
// A block is "linked" when it and every ancestor have their data stored: only a linked,
// non-failed block can become the tip, because only then can the whole branch be
// connected. Blocks that arrive before their parent wait in a parent -> children map until
// the parent is linked (Bitcoin's mapBlocksUnlinked).
//
// Memory: a node is never removed. Nodes sit in fixed chunks (no allocation of their own)
// and are found through an open-addressing table of pointers keyed by a salted mix of the
// hash, at most three quarters full: about 210 bytes a header with the active chain's
// pointer (docs/BENCHMARKS.md; issue 10 asks for at most 250). The salt is random per tree,
// so that headers ground to collide in the table cannot be made without knowing it.
//
// Thread-safety: none. The Chainstate guards its tree with its mutex; node fields that
// never change after insertion (see block_index.hpp) may be read without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "chain/block_index.hpp"
#include "core/block.hpp"
#include "core/uint256.hpp"

namespace peerchain::chain {

// The height the skip pointer of a block at `height` points to (Bitcoin's GetSkipHeight).
std::uint32_t skip_height(std::uint32_t height) noexcept;

struct BlockNode : BlockIndex {
    std::uint64_t sequence = 0;  // insertion order: of two tips with equal work, the first wins
    bool linked = false;         // this block and all its ancestors have data
    // Initial sync: its index record has not been written yet (Chainstate; in the padding
    // after `linked`, so it costs no memory).
    bool record_unwritten = false;
};

class BlockTree {
  public:
    BlockTree();
    BlockTree(const BlockTree&) = delete;
    BlockTree& operator=(const BlockTree&) = delete;

    BlockNode* find(const core::Uint256& hash) noexcept;
    const BlockNode* find(const core::Uint256& hash) const noexcept;
    std::size_t size() const noexcept { return size_; }
    // The heap the tree's nodes and table take (not the transient candidates and waiting
    // lists).
    std::size_t memory_usage() const noexcept;

    // Adds a header whose hash is `hash` on `prev` (nullptr only for the genesis block),
    // setting height, skip, chain work and sequence. Assumes the hash is new and `status`
    // has no kHaveData (use set_have_data). The node lives as long as the tree.
    BlockNode* insert(const core::Uint256& hash, const core::BlockHeader& header, BlockNode* prev,
                      std::uint32_t status);

    // Records that the block's data is stored (at `pos` in the flat files; null for a body
    // under 'b'), links it (and any waiting descendants) when its parent is linked, and
    // makes every newly linked non-failed block a candidate.
    void set_have_data(BlockNode* node, store::FlatPos pos);

    // The linked, non-failed block with the most work (the earliest of equal ones), or
    // nullptr when there is none.
    BlockNode* best_candidate() const noexcept;
    // Makes a linked, non-failed block a candidate again (after it was disconnected).
    void add_candidate(BlockNode* node);
    // Drops the candidates with less work than `tip`: they can never win again.
    void prune_candidates(const BlockIndex* tip);
    std::size_t candidate_count() const noexcept { return candidates_.size(); }

    // Marks `node` kFailedValid and every descendant kFailedChild, drops them from the
    // candidates and recomputes the best header. Returns every node whose status changed.
    std::vector<BlockNode*> mark_failed(BlockNode* node);

    // The most-work header that is not failed (the earliest of equal ones).
    const BlockNode* best_header() const noexcept { return best_header_; }

    template <typename F>
    void for_each(F&& f) {
        for_each_from(0, f);
    }
    // The nodes from the `first`-th inserted on, in insertion order (size() before an
    // insert is the index of the node it adds).
    template <typename F>
    void for_each_from(std::size_t first, F&& f) {
        for (std::size_t i = first; i < size_; ++i) f(node_at(i));
    }

  private:
    struct MoreWork {
        bool operator()(const BlockNode* a, const BlockNode* b) const noexcept {
            if (a->chain_work != b->chain_work) return a->chain_work > b->chain_work;
            return a->sequence < b->sequence;
        }
    };
    void link(BlockNode* node);
    void recompute_best_header();
    BlockNode& node_at(std::size_t i) noexcept { return chunks_[i / kChunk][i % kChunk]; }
    std::size_t slot_of(const core::Uint256& hash) const noexcept;
    void grow_table();

    static constexpr std::size_t kChunk = 1024;  // nodes a chunk
    std::vector<std::unique_ptr<BlockNode[]>> chunks_;
    std::size_t size_ = 0;
    std::vector<BlockNode*> table_;  // nullptr: empty; a power of two in size
    unsigned shift_ = 0;             // 64 - log2(table_.size())
    std::uint64_t salt_ = 0;
    std::set<BlockNode*, MoreWork> candidates_;
    std::unordered_multimap<const BlockNode*, BlockNode*> unlinked_;
    const BlockNode* best_header_ = nullptr;
    std::uint64_t next_sequence_ = 0;
};

}  // namespace peerchain::chain
