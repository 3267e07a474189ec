// The address book at its bound: what a full net::addrman::AddrMan costs in memory, and
// what add() and select() cost once it is full (docs/BENCHMARKS.md, "Network").
//
// BM_FillToCapacity fills a default book (256 new and 64 tried buckets of 64 slots: 20,480
// entries) from many sources, as gossip would: routable IPv4 addresses with random ports,
// told in addr-sized batches by peers in 1,024 different /16 groups, with good() on
// addresses until the tried table is full. It reports AddrMan::memory_usage() (the book's
// own estimate) next to two measurements of the same fill: the heap the process handed
// out (the allocator's bytes in use, bench/heap_in_use.hpp) and its resident set (VmRSS
// from /proc/self/status), before and after, and again after malloc_trim() has returned
// what the allocator kept from chunks freed during the fill. The resident set is only
// meaningful on the first fill of a process, before freed memory can be reused: the
// benchmark is registered first and runs once, after a small book has paged in the code.
//
// BM_AddNewAtBound, BM_AddKnownAtBound, BM_Select*, BM_SampleAtBound then time the calls
// the node makes on a full book: gossip of unknown addresses (every one lands on a taken,
// live slot and is dropped, the steady state of a full book), gossip of addresses it
// holds (last_seen and transports merged), the dialer's pick, and a getaddr answer.
//
// Deterministic: fixed bucketing key, fixed RNG seeds, a manual clock.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench/heap_in_use.hpp"
#include "net/addrman/addr_man.hpp"
#include "net/addrman/net_address.hpp"
#include "util/clock.hpp"

namespace {

namespace addrman = peerchain::net::addrman;
namespace util = peerchain::util;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::uint64_t kSeed = 0x5eed'add7;
constexpr std::size_t kSourceGroups = 1024;
constexpr std::size_t kBatch = 100;

addrman::AddrManConfig bench_config() {
    addrman::AddrManConfig config;
    config.key.fill(0x42);
    config.rng_seed = 7;
    return config;
}

// Random routable IPv4 addresses with random ports, and random routable peers telling
// them, each peer in its own /16 group.
class Gossip {
  public:
    explicit Gossip(std::uint64_t seed) : rng_(seed) {}

    addrman::NetAddress address() {
        for (;;) {
            // First octets 11..222 hold no private, loopback, multicast or documentation
            // range but 100.64/10, 169.254/16, 172.16/12, 192.168/16 and the TEST-NETs;
            // parse() refuses the reserved ones and the rest are skipped.
            const auto a = 11 + rng_() % 212;
            if (a == 100 || a == 127 || a == 169 || a == 172 || a == 192 || a == 198 || a == 203) {
                continue;
            }
            const std::string host = std::to_string(a) + "." + std::to_string(rng_() % 256) + "." +
                                     std::to_string(rng_() % 256) + "." +
                                     std::to_string(1 + rng_() % 254);
            const auto port = static_cast<std::uint16_t>(1024 + rng_() % 64000);
            auto parsed = addrman::NetAddress::parse(host, port, addrman::kTransportWebSocket);
            if (parsed) return *parsed;
        }
    }

    std::vector<addrman::AddrMan::Timed> batch(std::size_t n) {
        std::vector<addrman::AddrMan::Timed> out;
        out.reserve(n);
        // Seen within the last week: fresh enough that nothing in the book is terrible.
        for (std::size_t i = 0; i < n; ++i) {
            out.emplace_back(address(), kNow - static_cast<std::int64_t>(rng_() % 604800));
        }
        return out;
    }

    addrman::Source source() {
        const std::size_t g = rng_() % kSourceGroups;
        const std::string host =
            std::to_string(20 + g / 256) + "." + std::to_string(g % 256) + ".7.9";
        return addrman::Source{"addr from " + host + ":6001", host, false};
    }

  private:
    std::mt19937_64 rng_;
};

struct FillStats {
    std::size_t offered = 0;  // addresses given to add()
    std::size_t good_calls = 0;
};

// Fills `book` to capacity: tried first (add, then good()), then new. A good() whose tried
// slot is taken sends the entry there back to new, so while the tried table fills the new
// one is emptied now and then; otherwise it would fill first and leave no room for the
// addresses that good() still needs. Stops early only if the last 200,000 offers added
// nothing (it never does with these shapes).
FillStats fill(addrman::AddrMan& book, Gossip& gossip, const addrman::AddrManConfig& config) {
    FillStats stats;
    const std::size_t tried_slots = config.tried_buckets * config.bucket_size;
    while (book.tried_count() < tried_slots) {
        if (book.new_count() > config.new_buckets * config.bucket_size / 2) {
            for (const auto& info : book.list()) {
                if (!info.tried) book.remove(info.address);
            }
        }
        const auto items = gossip.batch(1);
        book.add(items, gossip.source());
        ++stats.offered;
        book.good(items[0].first);
        ++stats.good_calls;
    }
    std::size_t idle = 0;
    while (book.size() < book.capacity() && idle < 200000) {
        const auto items = gossip.batch(kBatch);
        const std::size_t n = book.add(items, gossip.source());
        stats.offered += items.size();
        idle = n == 0 ? idle + items.size() : 0;
    }
    return stats;
}

std::int64_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
    }
    return -1;
}

std::int64_t heap_bytes() { return static_cast<std::int64_t>(peerchain::bench::heap_in_use()); }

void BM_FillToCapacity(benchmark::State& state) {
    {
        // The code a fill runs is paged in by a small book first, so that the resident set
        // below grows by data only.
        util::ManualClock clock(kNow);
        Gossip gossip(kSeed - 1);
        addrman::AddrManConfig small = bench_config();
        small.new_buckets = 4;
        small.tried_buckets = 1;
        small.new_buckets_per_source_group = 4;
        addrman::AddrMan book(small, clock);
        fill(book, gossip, small);
        benchmark::DoNotOptimize(book.memory_usage());
    }
    for (auto _ : state) {
        util::ManualClock clock(kNow);
        Gossip gossip(kSeed);
        malloc_trim(0);
        const std::int64_t rss_before = rss_bytes();
        const std::int64_t heap_before = heap_bytes();
        auto book = std::make_unique<addrman::AddrMan>(bench_config(), clock);
        const FillStats stats = fill(*book, gossip, bench_config());
        const std::int64_t heap_after = heap_bytes();
        const std::int64_t rss_after = rss_bytes();
        // What the allocator holds beyond the live chunks (freed during the fill, kept for
        // reuse) goes back to the system: the resident set of what the book holds.
        malloc_trim(0);
        const std::int64_t rss_trimmed = rss_bytes();
        const double entries = static_cast<double>(book->size());
        const double estimate = static_cast<double>(book->memory_usage());
        const double heap = static_cast<double>(heap_after - heap_before);
        state.counters["entries"] = entries;
        state.counters["tried"] = static_cast<double>(book->tried_count());
        state.counters["capacity"] = static_cast<double>(book->capacity());
        state.counters["offered"] = static_cast<double>(stats.offered);
        state.counters["good_calls"] = static_cast<double>(stats.good_calls);
        state.counters["estimate_B"] = estimate;
        state.counters["estimate_B/entry"] = estimate / entries;
        state.counters["heap_B"] = heap;
        state.counters["heap_B/entry"] = heap / entries;
        state.counters["rss_B/entry"] = static_cast<double>(rss_after - rss_before) / entries;
        state.counters["rss_trimmed_B/entry"] =
            static_cast<double>(rss_trimmed - rss_before) / entries;
        state.counters["estimate/heap"] = estimate / heap;
        state.PauseTiming();
        book.reset();
        state.ResumeTiming();
    }
}
// Registered first: its resident-set figure needs a process that has freed nothing yet.
BENCHMARK(BM_FillToCapacity)->Iterations(1)->Unit(benchmark::kMillisecond);

// One full book shared by the timed benchmarks below (none of them changes what it
// holds: unknown addresses are dropped, known ones only refreshed).
struct FullBook {
    util::ManualClock clock{kNow};
    Gossip gossip{kSeed};
    addrman::AddrMan book{bench_config(), clock};
    std::vector<addrman::AddrMan::Timed> known;

    FullBook() {
        fill(book, gossip, bench_config());
        for (const auto& info : book.list()) known.emplace_back(info.address, kNow);
    }
};

FullBook& full_book() {
    static FullBook full;
    return full;
}

// Gossip of unknown addresses into the full book, in batches of state.range(0). Every
// address hashes to a taken slot whose entry is live, so it is dropped.
void BM_AddNewAtBound(benchmark::State& state) {
    FullBook& full = full_book();
    Gossip gossip(kSeed + 1);
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    std::vector<std::vector<addrman::AddrMan::Timed>> batches;
    std::vector<addrman::Source> sources;
    for (int i = 0; i < 64; ++i) {
        batches.push_back(gossip.batch(batch_size));
        sources.push_back(gossip.source());
    }
    std::size_t i = 0;
    std::size_t added = 0;
    for (auto _ : state) {
        added += full.book.add(batches[i % batches.size()], sources[i % sources.size()]);
        ++i;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(i * batch_size));
    state.counters["added"] = static_cast<double>(added);
    state.counters["size"] = static_cast<double>(full.book.size());
}
BENCHMARK(BM_AddNewAtBound)->Arg(1)->Arg(10)->Arg(1000);

// Gossip of addresses the book holds: each is found and merged.
void BM_AddKnownAtBound(benchmark::State& state) {
    FullBook& full = full_book();
    const auto batch_size = static_cast<std::size_t>(state.range(0));
    const addrman::Source source = full.gossip.source();
    std::size_t at = 0;
    std::vector<addrman::AddrMan::Timed> batch;
    for (auto _ : state) {
        state.PauseTiming();
        batch.clear();
        for (std::size_t k = 0; k < batch_size; ++k) {
            batch.push_back(full.known[at++ % full.known.size()]);
        }
        state.ResumeTiming();
        benchmark::DoNotOptimize(full.book.add(batch, source));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(batch_size));
}
BENCHMARK(BM_AddKnownAtBound)->Arg(10)->Arg(1000);

// The dialer's pick: select(false) with no filter, as the first try of each dial.
void BM_SelectAtBound(benchmark::State& state) {
    FullBook& full = full_book();
    for (auto _ : state) benchmark::DoNotOptimize(full.book.select(false));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SelectAtBound);

// select() whose accept refuses every tried entry (as if all were connected or their
// groups in use): half the picks are drawn again.
void BM_SelectRefusingTriedAtBound(benchmark::State& state) {
    FullBook& full = full_book();
    std::set<std::string> tried;
    for (const auto& info : full.book.list()) {
        if (info.tried) tried.insert(info.address.host_port());
    }
    const auto accept = [&](const addrman::NetAddress& a) {
        return !tried.contains(a.host_port());
    };
    for (auto _ : state) benchmark::DoNotOptimize(full.book.select(false, accept));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SelectRefusingTriedAtBound);

// A getaddr answer: 1,000 addresses (23% of the book would be 4,710).
void BM_SampleAtBound(benchmark::State& state) {
    FullBook& full = full_book();
    for (auto _ : state) benchmark::DoNotOptimize(full.book.sample(1000, 23));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SampleAtBound)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
