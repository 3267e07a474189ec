#include "core/params.hpp"

#include <gtest/gtest.h>

#include "core/check.hpp"
#include "core/pow.hpp"

namespace peerchain::core {
namespace {

// Changing anything in a genesis block changes every chain: these hashes are pinned.
TEST(Params, GenesisHashesArePinned) {
    EXPECT_EQ(params(Network::kDev).genesis_hash.to_hex(),
              "00001c56bddf3c3a274c130ff5720b8fed07c82d428d0b74fbb142e11899480c");
    EXPECT_EQ(params(Network::kRegtest).genesis_hash.to_hex(),
              "408c2c1241584d93f96eda0d493ec7bd9a645b89b95adf0d73d00ac27a6d62d3");
}

TEST(Params, GenesisBlocksAreValid) {
    for (auto n : {Network::kDev, Network::kRegtest}) {
        const Params& p = params(n);
        EXPECT_TRUE(check_block(p.genesis, p))
            << p.name << ": " << check_block(p.genesis, p).to_string();
        EXPECT_TRUE(check_block_context(p.genesis, 0));
        EXPECT_TRUE(p.genesis.header.prev_hash.is_zero());
    }
}

TEST(Params, NetworksDiffer) {
    EXPECT_NE(params(Network::kDev).magic, params(Network::kRegtest).magic);
    EXPECT_NE(params(Network::kDev).genesis_hash, params(Network::kRegtest).genesis_hash);
    EXPECT_EQ(*parse_network("dev"), Network::kDev);
    EXPECT_EQ(*parse_network("regtest"), Network::kRegtest);
    EXPECT_FALSE(parse_network("mainnet"));
}

TEST(Params, SubsidyHalves) {
    const Params& p = params(Network::kRegtest);
    EXPECT_EQ(block_subsidy(0, p), 50 * kCoin);
    EXPECT_EQ(block_subsidy(p.halving_interval - 1, p), 50 * kCoin);
    EXPECT_EQ(block_subsidy(p.halving_interval, p), 25 * kCoin);
    EXPECT_EQ(block_subsidy(p.halving_interval * 64, p), 0);
}

}  // namespace
}  // namespace peerchain::core
