#include "node/node_metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace peerchain::node {
namespace {

namespace metrics = util::metrics;

// The chain reports a deep reorganisation in batches (a tip change every 32 blocks): it is
// still one, as deep as every block it disconnected.
TEST(ChainMetrics, ADeepReorgInBatchesCountsOnce) {
    metrics::Registry registry;
    ChainMetrics m(registry);
    for (int i = 0; i < 5; ++i) {
        m.on_block_validated(nullptr, std::chrono::milliseconds(2));
        m.on_block_connected(nullptr, nullptr);
        m.on_tip_changed(nullptr, nullptr, nullptr);
    }
    for (int i = 1; i <= 100; ++i) {
        m.on_block_disconnected(nullptr, nullptr);
        if (i % 32 == 0) m.on_tip_changed(nullptr, nullptr, nullptr);
    }
    for (int i = 0; i < 101; ++i) m.on_block_connected(nullptr, nullptr);
    m.on_block_rejected({}, core::ValidationResult::invalid("bad-merkle-root"));
    m.on_block_rejected({}, core::ValidationResult::invalid("bad-merkle-root"));

    auto& reorgs = registry.counter("peerchain_reorgs_total", "");
    auto& depth = registry.histogram("peerchain_reorg_depth_blocks", "", {});
    EXPECT_EQ(reorgs.value(), 1u);
    EXPECT_EQ(depth.snapshot().count, 1u);
    EXPECT_EQ(depth.snapshot().sum, 100);
    EXPECT_EQ(registry.counter("peerchain_blocks_connected_total", "").value(), 106u);
    EXPECT_EQ(registry.counter("peerchain_blocks_disconnected_total", "").value(), 100u);
    const auto validation =
        registry.histogram("peerchain_block_validation_seconds", "", {}).snapshot();
    EXPECT_EQ(validation.count, 5u);
    EXPECT_DOUBLE_EQ(validation.sum, 0.010);
    EXPECT_EQ(registry.counter_family("peerchain_blocks_rejected_total", "", {"reason"})
                  .labels({"bad-merkle-root"})
                  .value(),
              2u);

    // The next reorganisation is counted on its own.
    m.on_block_disconnected(nullptr, nullptr);
    m.on_block_connected(nullptr, nullptr);
    EXPECT_EQ(reorgs.value(), 2u);
    EXPECT_EQ(depth.snapshot().sum, 101);
}

}  // namespace
}  // namespace peerchain::node
