// The merkle root that a header commits to.
//
//   leaf(tx)    := tagged_hash("peerchain/leaf", tx bytes)       (Transaction::leaf_hash)
//   node(l, r)  := tagged_hash("peerchain/node", l || r)
//   A level with an odd count moves its last hash up unchanged; it is never paired with
//   itself, so no two different transaction lists share a root (unlike CVE-2012-2459).
//   The root of one leaf is that leaf.
#pragma once

#include <vector>

#include "core/block.hpp"
#include "core/uint256.hpp"

namespace peerchain::core {

// Root of the given leaf hashes; all zero for none (a block with no transaction is
// rejected before its root matters).
Uint256 merkle_root(std::vector<Uint256> leaves);
Uint256 block_merkle_root(const Block& block);

}  // namespace peerchain::core
