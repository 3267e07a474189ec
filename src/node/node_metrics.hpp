// The node's metrics, in the one util::metrics::Registry the node owns and /metrics renders.
//
// ChainMetrics counts the chain's events as the event bus's last subscriber (blocks
// connected and disconnected, their validation time, reorganisations and their depth,
// blocks rejected by reason).
// register_node_gauges() adds the gauges read when /metrics is asked for, from what the
// node's parts already keep, through api::NodeApi: heights, chain work, the pool, peers by
// direction and transport, the miner's hash rate, the process's resident memory.
// The HTTP API counts its own requests (api::Router::count_requests), and the connection
// manager the P2P bytes by message type (net::connman::Config::metrics).
//
// Thread-safety: ChainMetrics is called on the chain executor and only touches atomics;
// the gauges are read on an HTTP thread through NodeApi's thread-safe queries.
#pragma once

#include <cstdint>

#include "api/node_api.hpp"
#include "chain/chain_observer.hpp"
#include "util/metrics.hpp"

namespace peerchain::node {

class ChainMetrics final : public chain::ChainObserver {
  public:
    explicit ChainMetrics(util::metrics::Registry& registry);

    void on_block_connected(const core::BlockPtr& block, const chain::BlockIndex* index) override;
    void on_block_validated(const chain::BlockIndex* index, std::chrono::nanoseconds took) override;
    void on_block_disconnected(const core::BlockPtr& block,
                               const chain::BlockIndex* index) override;
    void on_block_rejected(const core::Uint256& hash, const core::ValidationResult& why) override;

  private:
    util::metrics::Counter& connected_;
    util::metrics::Histogram& validation_;
    util::metrics::Counter& disconnected_;
    util::metrics::Counter& reorgs_;
    util::metrics::Histogram& reorg_depth_;
    util::metrics::Family<util::metrics::Counter>& rejected_;
    // Blocks disconnected since the last connected one: a reorganisation under way. It is
    // counted at its first connected block, whatever batches the chain reports it in (a
    // deep one comes with a tip change every 32 blocks). Chain executor only.
    std::uint64_t unwinding_ = 0;
};

// `node` must outlive the registry's last render.
void register_node_gauges(util::metrics::Registry& registry, const api::NodeApi& node);

}  // namespace peerchain::node
