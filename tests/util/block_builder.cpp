#include "tests/util/block_builder.hpp"

#include "core/merkle.hpp"
#include "core/pow.hpp"

namespace peerchain::testutil {

core::Block make_block(const core::Params& p, const core::Uint256& parent, std::uint32_t height,
                       std::uint32_t time, std::string data) {
    core::Block block;
    block.header.prev_hash = parent;
    block.header.time = time;
    block.header.bits = p.pow_limit_bits;
    core::XOnlyKey miner{};
    miner[0] = 0x42;
    block.txs.push_back(core::make_coinbase(height, core::block_subsidy(height, p), miner,
                                            util::Bytes(data.begin(), data.end())));
    fix_merkle(block);
    return block;
}

void fix_merkle(core::Block& block) { block.header.merkle_root = core::block_merkle_root(block); }

void mine(core::Block& block, const core::Params& p) {
    for (std::uint64_t n = 0; n <= 0xffffffffULL; ++n) {
        block.header.nonce = static_cast<std::uint32_t>(n);
        if (core::check_proof_of_work(block.hash(), block.header.bits, p)) return;
    }
    NODE_ASSERT(false);
}

void unmine(core::Block& block, const core::Params& p) {
    for (std::uint64_t n = 0; n <= 0xffffffffULL; ++n) {
        block.header.nonce = static_cast<std::uint32_t>(n);
        if (!core::check_proof_of_work(block.hash(), block.header.bits, p)) return;
    }
    NODE_ASSERT(false);
}

}  // namespace peerchain::testutil
