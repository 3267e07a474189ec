#include "node/sync_progress.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>

namespace peerchain::node {

SyncProgress::SyncProgress(const util::Clock& clock, std::int64_t interval_seconds)
    : clock_(clock), interval_(std::max<std::int64_t>(1, interval_seconds)) {}

SyncReport SyncProgress::report(std::uint32_t headers, std::uint32_t blocks, double rate) const {
    SyncReport r;
    r.headers_height = headers;
    r.blocks_height = blocks;
    r.blocks_per_second = rate;
    r.progress = headers == 0 ? 1.0 : std::min(1.0, double(blocks) / double(headers));
    r.syncing = blocks < headers;
    if (r.syncing && rate > 0) {
        r.eta_seconds = static_cast<std::int64_t>(std::ceil(double(headers - blocks) / rate));
    } else if (!r.syncing) {
        r.eta_seconds = 0;
    }
    return r;
}

void SyncProgress::start_at(std::uint32_t blocks_height) {
    quiet_ = std::pair{clock_.now_millis(), blocks_height};
}

namespace {

// Blocks a second between two points in milliseconds; 0 when no time passed.
double rate_of(std::uint32_t blocks, std::uint32_t since_blocks, std::int64_t now_ms,
               std::int64_t since_ms) {
    if (now_ms <= since_ms) return 0;
    return double(blocks - std::min(blocks, since_blocks)) * 1000.0 / double(now_ms - since_ms);
}

}  // namespace

std::optional<SyncReport> SyncProgress::tick(std::uint32_t headers_height,
                                             std::uint32_t blocks_height) {
    // Milliseconds: the ticks come about a second apart, and whole seconds made a rate
    // over one of them anything from half to double the truth.
    const std::int64_t now = clock_.now_millis();
    if (!syncing()) {
        const std::optional<std::pair<std::int64_t, std::uint32_t>> before = quiet_;
        quiet_ = std::pair{now, blocks_height};
        if (headers_height <= blocks_height + 1) return std::nullopt;
        syncing_.store(true, std::memory_order_relaxed);
        // The sync began after the last quiet tick: it counts from there, so that the first
        // report has a rate when blocks came in already (a fast sync can be half done by
        // the first tick that sees it).
        started_at_ = before ? before->first : now;
        started_blocks_ = before ? before->second : blocks_height;
        last_at_ = now;
        last_blocks_ = blocks_height;
        return report(headers_height, blocks_height,
                      rate_of(blocks_height, started_blocks_, now, started_at_));
    }
    if (blocks_height >= headers_height) {
        syncing_.store(false, std::memory_order_relaxed);
        quiet_ = std::pair{now, blocks_height};
        return report(headers_height, blocks_height,
                      rate_of(blocks_height, started_blocks_, now, started_at_));
    }
    if (now - last_at_ < interval_ * 1000) return std::nullopt;
    // Over the last interval: a rate that follows the sync as blocks grow heavier.
    const double rate = rate_of(blocks_height, last_blocks_, now, last_at_);
    last_at_ = now;
    last_blocks_ = blocks_height;
    return report(headers_height, blocks_height, rate);
}

std::string SyncProgress::describe(const SyncReport& r) {
    if (!r.syncing) {
        return fmt::format("caught up at height {} (best header {}), {:.1f} blocks/s on average",
                           r.blocks_height, r.headers_height, r.blocks_per_second);
    }
    std::string eta = "time left unknown";
    if (r.eta_seconds) eta = fmt::format("about {} s left", *r.eta_seconds);
    return fmt::format("sync: headers {}, blocks {} ({:.1f}%), {:.1f} blocks/s, {}",
                       r.headers_height, r.blocks_height, r.progress * 100, r.blocks_per_second,
                       eta);
}

}  // namespace peerchain::node
