// BlockIndex navigation (skip pointers, median time past, common ancestors) and the
// BlockTree bookkeeping the Chainstate builds on: linking blocks whose data arrives out of
// order, candidates, failure marking.
#include "chain/block_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "chain/block_tree.hpp"
#include "core/pow.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::chain {
namespace {

// A header with a unique hash per (branch, height); no proof of work needed here.
core::BlockHeader header_for(const core::Uint256& prev, std::uint32_t time, std::uint32_t tag) {
    core::BlockHeader h;
    h.prev_hash = prev;
    h.time = time;
    h.bits = 0x207fffff;
    h.nonce = tag;
    return h;
}

// Builds `n` blocks on `from` (nullptr: a new genesis) and returns them in order.
std::vector<BlockNode*> grow(BlockTree& tree, BlockNode* from, int n, std::uint32_t tag) {
    std::vector<BlockNode*> out;
    BlockNode* prev = from;
    for (int i = 0; i < n; ++i) {
        const core::Uint256 prev_hash = prev ? prev->hash : core::Uint256();
        const std::uint32_t time = prev ? prev->header.time + 1 + (tag + i) % 7 : 1000;
        const auto h = header_for(prev_hash, time, tag * 100000 + static_cast<std::uint32_t>(i));
        prev = tree.insert(h.hash(), h, prev, 0);
        out.push_back(prev);
    }
    return out;
}

const BlockIndex* walk_back(const BlockIndex* b, std::uint32_t height) {
    while (b != nullptr && b->height > height) b = b->prev;
    return b;
}

TEST(BlockIndex, AncestorMatchesAWalkBack) {
    BlockTree tree;
    const auto chain = grow(tree, nullptr, 3000, 1);
    auto& rng = testutil::rng();
    for (int i = 0; i < 2000; ++i) {
        const BlockIndex* from = chain[rng() % chain.size()];
        const auto h = static_cast<std::uint32_t>(rng() % (from->height + 1));
        ASSERT_EQ(from->ancestor(h), walk_back(from, h)) << from->height << " -> " << h;
    }
    EXPECT_EQ(chain.back()->ancestor(chain.back()->height), chain.back());
    EXPECT_EQ(chain.back()->ancestor(chain.back()->height + 1), nullptr);
    EXPECT_EQ(chain.back()->ancestor(0), chain.front());
    for (const BlockNode* b : chain) {
        if (b->height >= 2) {
            ASSERT_NE(b->skip, nullptr);
            EXPECT_EQ(b->skip->height, skip_height(b->height));
            EXPECT_LT(b->skip->height, b->height);
        }
    }
}

TEST(BlockIndex, MedianTimePast) {
    BlockTree tree;
    std::vector<std::uint32_t> times = {100, 90, 120, 130, 80, 140, 150, 160, 70, 170, 180, 60};
    BlockNode* prev = nullptr;
    std::vector<BlockNode*> nodes;
    for (std::size_t i = 0; i < times.size(); ++i) {
        const auto h = header_for(prev ? prev->hash : core::Uint256(), times[i],
                                  static_cast<std::uint32_t>(i));
        prev = tree.insert(h.hash(), h, prev, 0);
        nodes.push_back(prev);
    }
    EXPECT_EQ(nodes[0]->median_time_past(), 100);
    EXPECT_EQ(nodes[1]->median_time_past(), 100);  // {90, 100}: the upper middle
    EXPECT_EQ(nodes[2]->median_time_past(), 100);  // {90, 100, 120}
    // The last 11 of all 12: 90..60 without the first.
    std::vector<std::int64_t> last11(times.begin() + 1, times.end());
    std::sort(last11.begin(), last11.end());
    EXPECT_EQ(nodes.back()->median_time_past(), last11[5]);
}

TEST(BlockIndex, LastCommonAncestor) {
    BlockTree tree;
    const auto stem = grow(tree, nullptr, 50, 3);
    const auto a = grow(tree, stem[29], 40, 4);
    const auto b = grow(tree, stem[29], 7, 5);
    EXPECT_EQ(last_common_ancestor(a.back(), b.back()), stem[29]);
    EXPECT_EQ(last_common_ancestor(b.back(), a.back()), stem[29]);
    EXPECT_EQ(last_common_ancestor(a.back(), stem.back()), stem[29]);
    EXPECT_EQ(last_common_ancestor(a[10], a.back()), a[10]);
    EXPECT_EQ(last_common_ancestor(a.back(), a.back()), a.back());
    EXPECT_EQ(last_common_ancestor(stem[0], b.back()), stem[0]);
}

TEST(BlockTree, ChainWorkAndBestHeader) {
    BlockTree tree;
    const auto chain = grow(tree, nullptr, 10, 6);
    const auto work = core::block_work(0x207fffff);
    EXPECT_EQ(chain[0]->chain_work, work);
    EXPECT_EQ(chain[9]->chain_work, chain[8]->chain_work + work);
    EXPECT_EQ(tree.best_header(), chain.back());
    // A side branch of equal length does not replace the first seen.
    const auto side = grow(tree, chain[4], 5, 7);
    EXPECT_EQ(tree.best_header(), chain.back());
    const auto longer = grow(tree, side.back(), 1, 8);
    EXPECT_EQ(tree.best_header(), longer.back());
}

// The hash table finds every node it holds and nothing else, through its growth, also
// among hashes whose first 8 bytes (the table's hash) are equal and differ only after them.
TEST(BlockTree, FindsEachHeaderItHoldsAndNoOther) {
    BlockTree tree;
    const auto chain = grow(tree, nullptr, 5000, 11);
    core::Uint256 twin = chain.back()->hash;
    std::vector<BlockNode*> twins;
    BlockNode* prev = chain.back();
    for (std::uint8_t i = 0; i < 40; ++i) {
        twin.data()[31] = i;  // first 8 bytes as chain.back()'s
        if (twin == chain.back()->hash) continue;
        prev = tree.insert(twin, header_for(prev->hash, prev->header.time + 1, 900 + i), prev, 0);
        twins.push_back(prev);
    }
    for (const BlockNode* n : chain) EXPECT_EQ(tree.find(n->hash), n);
    for (const BlockNode* n : twins) EXPECT_EQ(tree.find(n->hash), n);
    for (std::uint32_t i = 0; i < 5000; ++i) {
        EXPECT_EQ(tree.find(header_for(core::Uint256(), 7, i).hash()), nullptr);
    }
    twin.data()[31] = 200;
    EXPECT_EQ(tree.find(twin), nullptr);
    EXPECT_EQ(tree.size(), chain.size() + twins.size());
}

TEST(BlockTree, DataOutOfOrderLinksWhenTheGapCloses) {
    BlockTree tree;
    const auto chain = grow(tree, nullptr, 6, 9);
    tree.set_have_data(chain[0], {});
    EXPECT_EQ(tree.best_candidate(), chain[0]);
    tree.set_have_data(chain[3], {});
    tree.set_have_data(chain[5], {});
    tree.set_have_data(chain[2], {});
    EXPECT_EQ(tree.best_candidate(), chain[0]);
    EXPECT_FALSE(chain[2]->linked);
    tree.set_have_data(chain[1], {});
    // 1, 2 and 3 link; 5 waits for 4.
    EXPECT_TRUE(chain[3]->linked);
    EXPECT_FALSE(chain[5]->linked);
    EXPECT_EQ(tree.best_candidate(), chain[3]);
    tree.set_have_data(chain[4], {});
    EXPECT_EQ(tree.best_candidate(), chain[5]);
    tree.prune_candidates(chain[5]);
    EXPECT_EQ(tree.candidate_count(), 1u);
}

TEST(BlockTree, MarkFailedTaintsDescendantsOnly) {
    BlockTree tree;
    const auto stem = grow(tree, nullptr, 5, 10);
    const auto a = grow(tree, stem[2], 6, 11);
    const auto b = grow(tree, stem[2], 3, 12);
    for (auto* n : stem) tree.set_have_data(n, {});
    for (auto* n : a) tree.set_have_data(n, {});
    for (auto* n : b) tree.set_have_data(n, {});
    EXPECT_EQ(tree.best_candidate(), a.back());
    EXPECT_EQ(tree.best_header(), a.back());
    const auto changed = tree.mark_failed(a[1]);
    EXPECT_EQ(changed.size(), 5u);
    EXPECT_NE(a[1]->status & kFailedValid, 0u);
    for (std::size_t i = 2; i < a.size(); ++i) EXPECT_NE(a[i]->status & kFailedChild, 0u);
    EXPECT_FALSE(a[0]->failed());
    EXPECT_FALSE(b.back()->failed());
    EXPECT_EQ(tree.best_candidate(), b.back());
    EXPECT_EQ(tree.best_header(), b.back());
    // Marking again changes nothing.
    EXPECT_TRUE(tree.mark_failed(a[1]).empty());
}

}  // namespace
}  // namespace peerchain::chain
