#include "chain/assume_valid.hpp"

#include "core/pow.hpp"

namespace peerchain::chain {

bool skip_signature_checks(const BlockIndex* block, const BlockIndex* assumed,
                           const BlockIndex* best_header, const core::Params& params) noexcept {
    if (block == nullptr || assumed == nullptr || best_header == nullptr) return false;
    if (assumed->ancestor(block->height) != block) return false;
    if (best_header->ancestor(block->height) != block) return false;
    // Without this, a peer that shows us only a weak branch holding the named block could
    // still have us skip checks on it (Core's minimum chain work test).
    if (best_header->chain_work < assumed->chain_work) return false;
    // The burial is what keeps the option from being a switch that turns checks off for
    // recent blocks: whoever asks users to name a block must also out-mine the network for
    // that long on top of it before anyone skips a signature in it. Counted in blocks of
    // the best header's difficulty, as Core counts time at the tip's difficulty.
    const core::ArithUint256 per_block = core::block_work(best_header->header.bits);
    if (per_block.is_zero()) return false;
    const core::ArithUint256 beyond = best_header->chain_work - block->chain_work;
    return beyond / per_block >= core::ArithUint256(params.assume_valid_burial);
}

}  // namespace peerchain::chain
