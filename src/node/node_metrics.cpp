#include "node/node_metrics.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <utility>

#include "chain/block_index.hpp"
#include "chain/chainstate.hpp"
#include "mempool/mempool.hpp"

namespace peerchain::node {

namespace metrics = util::metrics;

ChainMetrics::ChainMetrics(metrics::Registry& registry)
    : connected_(registry.counter("peerchain_blocks_connected_total",
                                  "Blocks connected to the active chain.")),
      validation_(registry.histogram(
          "peerchain_block_validation_seconds",
          "Time to check and connect each block: loading it, the contextual rules, coins, "
          "scripts and signatures, undo data.",
          metrics::exponential_bounds(0.0001, 4, 10))),
      disconnected_(registry.counter("peerchain_blocks_disconnected_total",
                                     "Blocks taken off the active chain by reorganisations.")),
      reorgs_(
          registry.counter("peerchain_reorgs_total",
                           "Reorganisations: blocks disconnected, then the new branch connected.")),
      reorg_depth_(registry.histogram("peerchain_reorg_depth_blocks",
                                      "Blocks each reorganisation disconnected.",
                                      {1, 2, 4, 8, 16, 64, 256, 1024, 4096})),
      rejected_(registry.counter_family(
          "peerchain_blocks_rejected_total",
          "Blocks (and headers) the chain refused, by the reason the rules gave.", {"reason"})) {}

void ChainMetrics::on_block_connected(const core::BlockPtr&, const chain::BlockIndex*) {
    connected_.inc();
    if (unwinding_ > 0) {
        reorgs_.inc();
        reorg_depth_.observe(static_cast<double>(unwinding_));
        unwinding_ = 0;
    }
}

void ChainMetrics::on_block_validated(const chain::BlockIndex*, std::chrono::nanoseconds took) {
    validation_.observe(std::chrono::duration<double>(took).count());
}

void ChainMetrics::on_block_disconnected(const core::BlockPtr&, const chain::BlockIndex*) {
    disconnected_.inc();
    ++unwinding_;
}

void ChainMetrics::on_block_rejected(const core::Uint256&, const core::ValidationResult& why) {
    rejected_.labels({why.reason.empty() ? "unknown" : why.reason}).inc();
}

namespace {

// VmRSS of this process in bytes, from /proc/self/statm (pages); 0 when unreadable.
double resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    unsigned long long size = 0;
    unsigned long long resident = 0;
    if (!(statm >> size >> resident)) return 0;
    return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// The pool's fee rates (base units a byte) at a few percentiles, over its transactions; every
// percentile 0 while the pool is empty, so that the series do not come and go.
std::vector<std::pair<std::vector<std::string>, double>> fee_rate_percentiles(
    const mempool::Mempool& pool) {
    std::vector<double> rates;
    for (const auto& e : pool.entries()) {
        if (e.size > 0) rates.push_back(static_cast<double>(e.fee) / static_cast<double>(e.size));
    }
    std::sort(rates.begin(), rates.end());
    std::vector<std::pair<std::vector<std::string>, double>> out;
    for (const auto& [label, q] : {std::pair<const char*, double>{"0", 0.0},
                                   {"10", 0.1},
                                   {"50", 0.5},
                                   {"90", 0.9},
                                   {"100", 1.0}}) {
        double value = 0;
        if (!rates.empty()) {
            // Nearest rank: the smallest rate with at least q of the pool at or below it.
            const auto rank =
                static_cast<std::size_t>(std::ceil(q * static_cast<double>(rates.size())));
            value = rates[rank == 0 ? 0 : rank - 1];
        }
        out.push_back({{label}, value});
    }
    return out;
}

}  // namespace

void register_node_gauges(metrics::Registry& registry, const api::NodeApi& node) {
    registry.gauge_callback("peerchain_tip_height", "Height of the active chain's tip.",
                            [&node] { return static_cast<double>(node.chain().tip()->height); });
    registry.gauge_callback("peerchain_headers_height",
                            "Height of the best header known (with the most work).", [&node] {
                                const auto* best = node.chain().best_header();
                                return best ? static_cast<double>(best->height) : 0.0;
                            });
    registry.gauge_callback("peerchain_chain_work",
                            "Expected hashes behind the active tip (its chain work).",
                            [&node] { return node.chain().tip()->chain_work.to_double(); });
    registry.gauge_callback("peerchain_mempool_transactions", "Transactions in the memory pool.",
                            [&node] { return static_cast<double>(node.mempool().size()); });
    registry.gauge_callback("peerchain_mempool_bytes",
                            "Serialized bytes of the transactions in the memory pool.",
                            [&node] { return static_cast<double>(node.mempool().bytes()); });
    registry.gauge_callback("peerchain_mempool_min_fee_rate",
                            "The lowest fee rate the pool accepts now, in base units a byte.",
                            [&node] { return static_cast<double>(node.min_fee_rate()); });
    registry.gauge_family_callback(
        "peerchain_mempool_fee_rate",
        "Fee rates of the pool's transactions at percentiles (0: lowest, 100: highest), base "
        "units a byte; 0 while the pool is empty.",
        {"percentile"}, [&node] { return fee_rate_percentiles(node.mempool()); });
    registry.gauge_family_callback("peerchain_peers",
                                   "Connected peers that completed the handshake, by direction and "
                                   "transport.",
                                   {"direction", "transport"}, [&node] {
                                       std::map<std::vector<std::string>, double> counts;
                                       // Every combination, so that a series shows 0 rather than
                                       // vanishing.
                                       for (const char* d : {"inbound", "outbound"}) {
                                           for (const char* t : {"ws", "tcp"}) counts[{d, t}] = 0;
                                       }
                                       for (const auto& p : node.peers()) {
                                           if (p.handshake_done)
                                               counts[{p.direction, p.transport}] += 1;
                                       }
                                       return metrics::Registry::LabelledValues(counts.begin(),
                                                                                counts.end());
                                   });
    registry.gauge_callback("peerchain_mining_hashes_per_second",
                            "The miner's hashes a second over the last few seconds (0 when idle).",
                            [&node] { return node.mining().hashes_per_second; });
    registry.gauge_callback("peerchain_process_resident_memory_bytes",
                            "Resident memory of the node's process.",
                            [] { return resident_bytes(); });
}

}  // namespace peerchain::node
