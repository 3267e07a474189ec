// SyncProgress: what the node says about a block sync while it runs (issue 8, point 6):
// every few seconds a line with the best header's height, the blocks' height, blocks per
// second and an estimate of the time left, instead of a line per block; and `caught up`
// once, when the tip reaches the best header after a sync. The same figures go out as
// `sync` events (node/event_feed.hpp).
//
// A sync begins when the best header is more than one block ahead of the tip (one block
// ahead is a block announced and not yet fetched, not a sync) and ends when the tip
// reaches the best header.
//
// Ownership: node/ owns it and drives it from its 1 s tick. The clock must outlive it.
// Thread-safety: tick() from one thread at a time; syncing() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "util/clock.hpp"

namespace peerchain::node {

struct SyncReport {
    std::uint32_t headers_height = 0;
    std::uint32_t blocks_height = 0;
    double blocks_per_second = 0;
    std::optional<std::int64_t> eta_seconds;  // unknown while no block came in the interval
    double progress = 0;                      // blocks / headers, 0..1
    bool syncing = false;                     // false: the one report that says caught up
};

class SyncProgress {
  public:
    // Reports every `interval_seconds` (at least 1) while syncing.
    explicit SyncProgress(const util::Clock& clock, std::int64_t interval_seconds = 5);

    // Given the best header's and the tip's heights, about once a second. Returns the
    // report that is due: the first when a sync begins, then one per interval, then the
    // caught-up one; nullopt otherwise.
    std::optional<SyncReport> tick(std::uint32_t headers_height, std::uint32_t blocks_height);
    // Where the tip stands before the first tick (when the node starts): a sync already
    // under way at the first tick counts from here.
    void start_at(std::uint32_t blocks_height);

    bool syncing() const noexcept { return syncing_.load(std::memory_order_relaxed); }

    // The log line of a report: "sync: headers 12000, blocks 4000 (33.3%), 812.5 blocks/s,
    // about 10 s left" or "caught up at height 12000 (...)".
    static std::string describe(const SyncReport& report);

  private:
    SyncReport report(std::uint32_t headers, std::uint32_t blocks, double rate) const;

    const util::Clock& clock_;
    const std::int64_t interval_;
    std::atomic<bool> syncing_{false};
    // Times in milliseconds (Clock::now_millis).
    std::int64_t started_at_ = 0;
    std::uint32_t started_blocks_ = 0;
    std::int64_t last_at_ = 0;
    std::uint32_t last_blocks_ = 0;
    // The time and tip height of the last tick that found no sync.
    std::optional<std::pair<std::int64_t, std::uint32_t>> quiet_;
};

}  // namespace peerchain::node
