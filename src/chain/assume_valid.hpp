// Assume-valid (issue 10, Bitcoin Core's -assumevalid): the user names a block they trust,
// and blocks of its chain that are buried deep enough under the best header connect
// without their signatures being checked. Everything else is still checked: proof of work,
// the merkle root, sizes, the coinbase, that every input's coin exists and is mature, the
// amounts and the fees. So the only invalid block it can let in is one whose signatures
// are bad and which the named block builds on: trusting that block means trusting its
// history, and nothing beside or above it.
//
// Thread-safety: pure functions of their arguments; the caller holds whatever lock guards
// the tree the BlockIndex pointers live in.
#pragma once

#include "chain/block_index.hpp"
#include "core/params.hpp"

namespace peerchain::chain {

// Whether `block`, about to be connected, may skip its signature checks. True only when
// all hold (as Bitcoin Core's ConnectBlock decides it):
//   1. `assumed` (the block named by the user) is in the header tree (not null);
//   2. `block` is `assumed` or one of its ancestors;
//   3. `block` is `best_header` or one of its ancestors;
//   4. `best_header` has at least the chain work of `assumed` (Core compares it with the
//      network's minimum chain work; the named block is ours);
//   5. `best_header` is buried deep: its chain work beyond `block` is at least that of
//      params.assume_valid_burial blocks at its own difficulty (Core asks for two weeks
//      of work; at 10 s a block that is params.assume_valid_burial blocks).
// False when any pointer is null.
bool skip_signature_checks(const BlockIndex* block, const BlockIndex* assumed,
                           const BlockIndex* best_header, const core::Params& params) noexcept;

}  // namespace peerchain::chain
