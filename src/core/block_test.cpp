#include <gtest/gtest.h>

#include "core/merkle.hpp"
#include "crypto/sha256.hpp"

namespace peerchain::core {
namespace {

Uint256 leaf(std::uint8_t n) {
    Uint256 h;
    h.data()[0] = n;
    return h;
}

Uint256 node(const Uint256& a, const Uint256& b) {
    util::Bytes both(a.span().begin(), a.span().end());
    both.insert(both.end(), b.span().begin(), b.span().end());
    return Uint256(crypto::tagged_hash("peerchain/node", both));
}

TEST(Merkle, OneLeafIsTheRoot) { EXPECT_EQ(merkle_root({leaf(1)}), leaf(1)); }

TEST(Merkle, OddNodeMovesUpUnpaired) {
    EXPECT_EQ(merkle_root({leaf(1), leaf(2)}), node(leaf(1), leaf(2)));
    EXPECT_EQ(merkle_root({leaf(1), leaf(2), leaf(3)}), node(node(leaf(1), leaf(2)), leaf(3)));
}

// CVE-2012-2459: with Bitcoin's rule, [a b c] and [a b c c] share a root. Here they differ.
TEST(Merkle, DuplicatingTheLastLeafChangesTheRoot) {
    EXPECT_NE(merkle_root({leaf(1), leaf(2), leaf(3)}),
              merkle_root({leaf(1), leaf(2), leaf(3), leaf(3)}));
}

// A leaf is not an inner node: a 64-byte transaction cannot pose as two child hashes.
TEST(Merkle, LeafAndNodeHashesUseDifferentTags) {
    Transaction tx = make_coinbase(0, 1, XOnlyKey{}, {});
    EXPECT_NE(tx.leaf_hash(), Uint256(crypto::tagged_hash("peerchain/node", tx.encode())));
}

}  // namespace
}  // namespace peerchain::core
