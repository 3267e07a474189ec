// SHA-256 throughput and the miner's hash rate.
//
// Mining: BM_BareShaNiLoop is the yardstick, the plainest honest SHA-NI miner loop, written
// here on purpose and sharing no code with the node: midstate once, then per nonce a
// full 64-round transform of the header's second block and one of the 32-byte digest,
// one nonce at a time, and a byte-wise comparison from the most significant byte.
// BM_HeaderScanner runs crypto::HeaderScanner over the same nonces with the same target
// (zero, so that nothing is found and every nonce is hashed). items_per_second is hashes per
// second of wall time summed over the threads.
//
// Hashing: sha256 of 64 B, 1 KiB and 1 MiB on each transform, and sha256d of an 80-byte
// header.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "crypto/header_scanner.hpp"
#include "crypto/sha256.hpp"
#include "crypto/sha256_constants.hpp"

namespace {

using peerchain::crypto::HeaderScanner;
using peerchain::crypto::Sha256;
using peerchain::crypto::Sha256Impl;

constexpr std::uint32_t kNoncesPerIteration = 4096;

// A header that differs per benchmark thread, as each miner thread's would.
std::array<std::uint8_t, 80> bench_header(int thread) {
    std::array<std::uint8_t, 80> header;
    for (std::size_t i = 0; i < header.size(); ++i) {
        header[i] = static_cast<std::uint8_t>(i * 37 + 11 + static_cast<std::size_t>(thread) * 101);
    }
    return header;
}

// ---- The bare SHA-NI loop (Intel's "SHA Extensions" white paper, 2013, figure 5) ----

#define BARE_TARGET [[gnu::target("sha,sse4.1,ssse3")]]

// The standard's constants, from where the library keeps them.
constexpr const std::uint32_t* kK = peerchain::crypto::detail::kSha256Round;
constexpr const std::uint32_t* kIv = peerchain::crypto::detail::kSha256Init;

BARE_TARGET inline __m128i bare_k(int group) {
    return _mm_load_si128(reinterpret_cast<const __m128i*>(kK + 4 * group));
}

BARE_TARGET inline void bare_rounds(__m128i& abef, __m128i& cdgh, __m128i m, int group) {
    const __m128i wk = _mm_add_epi32(m, bare_k(group));
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

// next = W[t..t+3] from the msg1 of W[t-16..], W[t-7..] and the group before (cur).
BARE_TARGET inline void bare_extend(__m128i& next, __m128i prev, __m128i cur) {
    next = _mm_sha256msg2_epu32(_mm_add_epi32(next, _mm_alignr_epi8(cur, prev, 4)), cur);
}

// One 64-byte block, state in the usual order A..H.
BARE_TARGET void bare_transform(std::uint32_t state[8], const std::uint8_t block[64]) {
    const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i t0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
    __m128i t1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
    t0 = _mm_shuffle_epi32(t0, 0xb1);  // CDAB
    t1 = _mm_shuffle_epi32(t1, 0x1b);  // EFGH
    __m128i abef = _mm_alignr_epi8(t0, t1, 8);
    __m128i cdgh = _mm_blend_epi16(t1, t0, 0xf0);
    const __m128i abef_in = abef;
    const __m128i cdgh_in = cdgh;

    __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block)), swap);
    __m128i m1 =
        _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 16)), swap);
    __m128i m2 =
        _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 32)), swap);
    __m128i m3 =
        _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 48)), swap);
    bare_rounds(abef, cdgh, m0, 0);
    bare_rounds(abef, cdgh, m1, 1);
    m0 = _mm_sha256msg1_epu32(m0, m1);
    bare_rounds(abef, cdgh, m2, 2);
    m1 = _mm_sha256msg1_epu32(m1, m2);
    bare_rounds(abef, cdgh, m3, 3);
    bare_extend(m0, m2, m3);
    m2 = _mm_sha256msg1_epu32(m2, m3);
    bare_rounds(abef, cdgh, m0, 4);
    bare_extend(m1, m3, m0);
    m3 = _mm_sha256msg1_epu32(m3, m0);
    bare_rounds(abef, cdgh, m1, 5);
    bare_extend(m2, m0, m1);
    m0 = _mm_sha256msg1_epu32(m0, m1);
    bare_rounds(abef, cdgh, m2, 6);
    bare_extend(m3, m1, m2);
    m1 = _mm_sha256msg1_epu32(m1, m2);
    bare_rounds(abef, cdgh, m3, 7);
    bare_extend(m0, m2, m3);
    m2 = _mm_sha256msg1_epu32(m2, m3);
    bare_rounds(abef, cdgh, m0, 8);
    bare_extend(m1, m3, m0);
    m3 = _mm_sha256msg1_epu32(m3, m0);
    bare_rounds(abef, cdgh, m1, 9);
    bare_extend(m2, m0, m1);
    m0 = _mm_sha256msg1_epu32(m0, m1);
    bare_rounds(abef, cdgh, m2, 10);
    bare_extend(m3, m1, m2);
    m1 = _mm_sha256msg1_epu32(m1, m2);
    bare_rounds(abef, cdgh, m3, 11);
    bare_extend(m0, m2, m3);
    m2 = _mm_sha256msg1_epu32(m2, m3);
    bare_rounds(abef, cdgh, m0, 12);
    bare_extend(m1, m3, m0);
    m3 = _mm_sha256msg1_epu32(m3, m0);
    bare_rounds(abef, cdgh, m1, 13);
    bare_extend(m2, m0, m1);
    bare_rounds(abef, cdgh, m2, 14);
    bare_extend(m3, m1, m2);
    bare_rounds(abef, cdgh, m3, 15);

    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
    t0 = _mm_shuffle_epi32(abef, 0x1b);  // FEBA
    t1 = _mm_shuffle_epi32(cdgh, 0xb1);  // DCHG
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(t0, t1, 0xf0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(t1, t0, 8));
}

// state[0..7] as 32 big-endian bytes: the digest. Two 16-byte stores, so that the next
// transform's 16-byte loads are forwarded from them rather than waiting for 32 byte stores.
BARE_TARGET inline void store_digest(std::uint8_t out[32], const std::uint32_t state[8]) {
    const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    for (int half = 0; half < 2; ++half) {
        const __m128i words = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4 * half));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * half),
                         _mm_shuffle_epi8(words, swap));
    }
}

struct BareMiner {
    std::uint32_t midstate[8];
    std::uint8_t block1[64] = {};  // header bytes 64..79 and padding
    std::uint8_t block2[64] = {};  // first digest and padding

    explicit BareMiner(const std::array<std::uint8_t, 80>& header) {
        std::memcpy(midstate, kIv, sizeof(midstate));
        bare_transform(midstate, header.data());
        std::memcpy(block1, header.data() + 64, 16);
        block1[16] = 0x80;
        block1[62] = 0x02;  // 640 bits
        block1[63] = 0x80;
        block2[32] = 0x80;
        block2[62] = 0x01;  // 256 bits
    }

    // Returns the first nonce in [first, first+count) whose hash <= target, else count's end.
    BARE_TARGET std::uint32_t scan(std::uint32_t first, std::uint32_t count,
                                   const std::uint8_t target[32]) {
        const __m128i tail = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block1));
        for (std::uint32_t i = 0; i < count; ++i) {
            const std::uint32_t nonce = first + i;
            // Bytes 64..79 of the header with the nonce, stored whole for the same reason.
            _mm_storeu_si128(reinterpret_cast<__m128i*>(block1),
                             _mm_insert_epi32(tail, static_cast<int>(nonce), 3));
            std::uint32_t state[8];
            std::memcpy(state, midstate, sizeof(state));
            bare_transform(state, block1);
            store_digest(block2, state);
            std::memcpy(state, kIv, sizeof(state));
            bare_transform(state, block2);
            std::uint8_t hash[32];
            store_digest(hash, state);
            int byte = 31;
            while (byte > 0 && hash[byte] == target[byte]) --byte;
            if (hash[byte] <= target[byte]) return nonce;
        }
        return first + count;
    }
};

void BM_BareShaNiLoop(benchmark::State& state) {
    if (!peerchain::crypto::sha256_supported(Sha256Impl::kShaNi)) {
        state.SkipWithError("this CPU has no SHA-NI");
        return;
    }
    const auto header = bench_header(state.thread_index());
    BareMiner miner(header);
    // The yardstick must hash correctly: it must find what the scanner finds.
    std::array<std::uint8_t, 32> easy;
    easy.fill(0xff);
    easy[31] = 0;
    std::uint64_t done = 0;
    if (HeaderScanner(header).scan(0, 100000, easy, &done) != miner.scan(0, 100000, easy.data())) {
        state.SkipWithError("the bare loop disagrees with HeaderScanner");
        return;
    }
    const std::uint8_t target[32] = {};
    std::uint32_t nonce = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(miner.scan(nonce, kNoncesPerIteration, target));
        nonce += kNoncesPerIteration;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kNoncesPerIteration);
}
BENCHMARK(BM_BareShaNiLoop)->Threads(1)->Threads(2)->UseRealTime();

void BM_HeaderScanner(benchmark::State& state, Sha256Impl impl) {
    if (!peerchain::crypto::sha256_supported(impl)) {
        state.SkipWithError("transform not supported on this CPU");
        return;
    }
    const auto header = bench_header(state.thread_index());
    const HeaderScanner scanner(header, impl);
    const std::array<std::uint8_t, 32> target{};
    std::uint32_t nonce = 0;
    std::uint64_t hashes = 0;
    for (auto _ : state) {
        std::uint64_t done = 0;
        benchmark::DoNotOptimize(scanner.scan(nonce, kNoncesPerIteration, target, &done));
        nonce += kNoncesPerIteration;
        hashes += done;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(hashes));
}
BENCHMARK_CAPTURE(BM_HeaderScanner, sha_ni, Sha256Impl::kShaNi)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_HeaderScanner, portable, Sha256Impl::kPortable)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_Sha256(benchmark::State& state, Sha256Impl impl) {
    if (!peerchain::crypto::sha256_supported(impl)) {
        state.SkipWithError("transform not supported on this CPU");
        return;
    }
    const std::vector<std::uint8_t> data(static_cast<std::size_t>(state.range(0)), 0xa5);
    for (auto _ : state) {
        benchmark::DoNotOptimize(Sha256(impl).write(data).finalize());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK_CAPTURE(BM_Sha256, sha_ni, Sha256Impl::kShaNi)->Arg(64)->Arg(1024)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_Sha256, portable, Sha256Impl::kPortable)->Arg(64)->Arg(1024)->Arg(1 << 20);

void BM_Sha256dHeader(benchmark::State& state, Sha256Impl impl) {
    if (!peerchain::crypto::sha256_supported(impl)) {
        state.SkipWithError("transform not supported on this CPU");
        return;
    }
    const auto header = bench_header(0);
    for (auto _ : state) {
        const auto first = Sha256(impl).write(header).finalize();
        benchmark::DoNotOptimize(Sha256(impl).write(first).finalize());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(BM_Sha256dHeader, sha_ni, Sha256Impl::kShaNi);
BENCHMARK_CAPTURE(BM_Sha256dHeader, portable, Sha256Impl::kPortable);

}  // namespace

BENCHMARK_MAIN();
