// Builds valid (or deliberately broken) blocks for tests: a coinbase at the right height,
// the merkle root, and a nonce that meets the target.
#pragma once

#include <cstdint>
#include <string>

#include "core/block.hpp"
#include "core/params.hpp"

namespace peerchain::testutil {

// A block on `parent` at `height` whose coinbase pays the full subsidy and carries `data`.
// Time defaults to parent_time + spacing. Not yet mined: call mine().
core::Block make_block(const core::Params& p, const core::Uint256& parent, std::uint32_t height,
                       std::uint32_t time, std::string data = "test");

// Recomputes the merkle root.
void fix_merkle(core::Block& block);

// Searches nonces until the header meets its own bits. Asserts if none is found in 2^32.
void mine(core::Block& block, const core::Params& p);

// Sets a nonce for which the header does NOT meet its bits.
void unmine(core::Block& block, const core::Params& p);

}  // namespace peerchain::testutil
