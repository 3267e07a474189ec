#include "core/merkle.hpp"

#include "crypto/sha256.hpp"

namespace peerchain::core {

Uint256 merkle_root(std::vector<Uint256> level) {
    if (level.empty()) return Uint256();
    static const crypto::Sha256 kNodeHasher = crypto::tagged_hasher("peerchain/node");
    while (level.size() > 1) {
        std::size_t out = 0;
        for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
            crypto::Sha256 h = kNodeHasher;
            h.write(level[i].span()).write(level[i + 1].span());
            level[out++] = Uint256(h.finalize());
        }
        if (level.size() % 2 == 1) level[out++] = level.back();
        level.resize(out);
    }
    return level[0];
}

Uint256 block_merkle_root(const Block& block) {
    std::vector<Uint256> leaves;
    leaves.reserve(block.txs.size());
    for (const auto& tx : block.txs) leaves.push_back(tx.leaf_hash());
    return merkle_root(std::move(leaves));
}

}  // namespace peerchain::core
