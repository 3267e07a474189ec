// libFuzzer target: core::decode_block on arbitrary bytes, bounded by the regtest block
// size limit. A block that decodes must encode back to exactly the input and report that
// size; check_block (proof of work on regtest's easy target, structure, merkle root) must
// not crash on it, on either network. Seeds: fuzz/corpus/block_decode/.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/block.hpp"
#include "core/check.hpp"
#include "core/merkle.hpp"
#include "core/params.hpp"
#include "util/assert.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace peerchain;
    const core::Params& regtest = core::params(core::Network::kRegtest);
    const util::ByteSpan input(data, size);
    auto block = core::decode_block(input, regtest.max_block_size);
    if (!block) return 0;
    const util::Bytes again = block->encode();
    NODE_ASSERT(again.size() == size);
    NODE_ASSERT(std::equal(again.begin(), again.end(), input.begin()));
    NODE_ASSERT(block->serialized_size() == size);
    // Also a decoded header must re-encode to the first 80 bytes.
    const auto header = block->header.encode();
    NODE_ASSERT(std::equal(header.begin(), header.end(), input.begin()));
    (void)core::check_block(*block, regtest);
    (void)core::check_block(*block, core::params(core::Network::kDev));
    (void)core::block_merkle_root(*block);
    if (!block->txs.empty()) (void)core::check_block_context(*block, 1);
    return 0;
}
