// The miner's end-to-end hash rate next to the bare kernel, to show what the miner costs
// over crypto::HeaderScanner::scan (chunking, generation checks, clock reads, counters).
//
// BM_Miner runs a mining::Miner with 1 or 2 worker threads on a dev-network template whose
// target is 1 (bits 0x03000001), so that no block is ever found and every nonce is hashed;
// it reads the miner's own hash counter over half-second windows. BM_Scan runs
// HeaderScanner::scan with a zero target in chunks of 2^16 nonces, one scanner per
// benchmark thread. items_per_second is hashes per second of wall time, summed over the
// threads, in both. hashes_per_cpu_s divides the hashes by the CPU time spent (the whole
// process's for the miner, so its coordinator counts; each thread's own for the scan):
// on a machine shared with other work, that ratio still shows the miner's overhead when
// wall-time rates drift. Run with --benchmark_repetitions=5
// --benchmark_enable_random_interleaving=true to spread that drift over both.
#include <benchmark/benchmark.h>
#include <time.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "chain/block_index.hpp"
#include "core/params.hpp"
#include "crypto/header_scanner.hpp"
#include "mining/miner.hpp"
#include "util/clock.hpp"

namespace {

using namespace std::chrono_literals;
using peerchain::chain::BlockIndex;
using peerchain::chain::Chainstate;
using peerchain::crypto::HeaderScanner;
namespace core = peerchain::core;
namespace mining = peerchain::mining;
namespace util = peerchain::util;

constexpr std::uint32_t kImpossibleBits = 0x03000001;  // target 1
// About the miner's chunk on SHA-NI (2 ms); the kernel's rate does not depend on it.
constexpr std::uint32_t kChunk = 1u << 16;

double cpu_seconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Never called: no block meets a target of 1.
class NullSink final : public mining::BlockSink {
  public:
    void submit(core::BlockPtr, std::function<void(core::ValidationResult)> done) override {
        done(core::ValidationResult::fail(core::ValidationCode::kInternal, "bench"));
    }
};

void BM_Miner(benchmark::State& state) {
    const core::Params& params = core::params(core::Network::kDev);
    BlockIndex parent;
    parent.hash = params.genesis_hash;
    parent.header = params.genesis.header;
    const Chainstate::NextBlockContext context{&parent, 1, kImpossibleBits,
                                               std::int64_t{params.genesis.header.time} + 1};
    NullSink sink;
    mining::MinerOptions options;
    options.threads = static_cast<unsigned>(state.range(0));
    mining::Miner miner(
        params, [&] { return context; }, sink, util::SystemClock::instance(), options);
    miner.start();
    if (!miner.start_continuous(mining::CoinbaseSpec{})) {
        state.SkipWithError("start_continuous failed");
        return;
    }
    while (miner.stats().active_threads < options.threads) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(200ms);  // past thread start-up

    std::uint64_t total = 0;
    const double cpu0 = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::uint64_t h0 = miner.stats().hashes;
        std::this_thread::sleep_for(500ms);
        const std::uint64_t h1 = miner.stats().hashes;
        const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
        state.SetIterationTime(elapsed.count());
        total += h1 - h0;
    }
    const double cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    const mining::MinerStats stats = miner.stats();
    miner.stop();
    if (stats.blocks_found != 0) state.SkipWithError("a block was found");
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
    state.counters["stats_hash_rate"] = stats.hash_rate;
    state.counters["hashes_per_cpu_s"] = static_cast<double>(total) / cpu;
}
BENCHMARK(BM_Miner)->Arg(1)->Arg(2)->UseManualTime()->Iterations(6)->Unit(benchmark::kSecond);

void BM_Scan(benchmark::State& state) {
    std::array<std::uint8_t, 80> header{};
    for (std::size_t i = 0; i < header.size(); ++i) {
        header[i] =
            static_cast<std::uint8_t>(i * 31 + 7 + static_cast<std::size_t>(state.thread_index()));
    }
    const HeaderScanner scanner(header);
    const std::array<std::uint8_t, 32> zero{};
    std::uint32_t next = static_cast<std::uint32_t>(state.thread_index()) << 31;
    std::uint64_t total = 0;
    const double cpu0 = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    for (auto _ : state) {
        std::uint64_t done = 0;
        benchmark::DoNotOptimize(scanner.scan(next, kChunk, zero, &done));
        next += kChunk;
        total += done;
    }
    const double cpu = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
    state.counters["hashes_per_cpu_s"] =
        benchmark::Counter(static_cast<double>(total) / cpu, benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_Scan)->Threads(1)->Threads(2)->UseRealTime()->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
