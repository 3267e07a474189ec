// SHA-256 on the x86 SHA extensions. This is the only file built with -msha -msse4.1 -mssse3
// (set in CMakeLists.txt), so nothing else in the binary needs them; sha256.cpp calls in
// here only after cpuid said yes. It includes no standard headers that define inline
// functions, for the reason given in sha256_shani.hpp.
//
// State layout: the SHA-NI round instruction keeps the eight working variables in two
// registers, "ABEF" (lanes 3..0 = A, B, E, F) and "CDGH" (lanes 3..0 = C, D, G, H);
// to_abef_cdgh() and from_abef_cdgh() convert from and to the usual order A..H. One call to
// _mm_sha256rnds2_epu32 does two rounds with W[t]+K[t] taken from the low two lanes of its
// third operand. The pattern of rounds and message schedule follows Intel's white paper
// "Intel SHA Extensions" (2013), figure 5.
#include "crypto/sha256_shani.hpp"

#include <immintrin.h>

#include "crypto/sha256_constants.hpp"

namespace peerchain::crypto::detail {

namespace {

using V = __m128i;

constexpr const std::uint32_t* kRound = kSha256Round;

constexpr const std::uint32_t* kInit = kSha256Init;

// Reverses the bytes of each 32-bit lane: big-endian message words to integers.
alignas(16) constexpr std::uint8_t kByteSwap[16] = {3,  2,  1, 0, 7,  6,  5,  4,
                                                    11, 10, 9, 8, 15, 14, 13, 12};

[[gnu::always_inline]] inline V load_aligned(const std::uint32_t* p) noexcept {
    return _mm_load_si128(reinterpret_cast<const V*>(p));
}

[[gnu::always_inline]] inline V k4(int group) noexcept { return load_aligned(kRound + 4 * group); }

[[gnu::always_inline]] inline V words(std::uint32_t w0, std::uint32_t w1, std::uint32_t w2,
                                      std::uint32_t w3) noexcept {
    return _mm_set_epi32(static_cast<int>(w3), static_cast<int>(w2), static_cast<int>(w1),
                         static_cast<int>(w0));
}

[[gnu::always_inline]] inline V load_be(const std::uint8_t* p) noexcept {
    return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const V*>(p)),
                            _mm_load_si128(reinterpret_cast<const V*>(kByteSwap)));
}

// state[0..3], state[4..7] -> ABEF, CDGH.
[[gnu::always_inline]] inline void to_abef_cdgh(V& s0, V& s1) noexcept {
    const V badc = _mm_shuffle_epi32(s0, 0xb1);
    const V hgfe = _mm_shuffle_epi32(s1, 0x1b);
    s0 = _mm_alignr_epi8(badc, hgfe, 8);
    s1 = _mm_blend_epi16(hgfe, badc, 0xf0);
}

// ABEF, CDGH -> state[0..3], state[4..7].
[[gnu::always_inline]] inline void from_abef_cdgh(V& s0, V& s1) noexcept {
    const V abef = _mm_shuffle_epi32(s0, 0x1b);
    const V ghcd = _mm_shuffle_epi32(s1, 0xb1);
    s0 = _mm_blend_epi16(abef, ghcd, 0xf0);
    s1 = _mm_alignr_epi8(ghcd, abef, 8);
}

// Four rounds with wk = W[t..t+3] + K[t..t+3]. abef and cdgh name the registers at the
// start and end of the four rounds.
[[gnu::always_inline]] inline void rounds4(V& abef, V& cdgh, V wk) noexcept {
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

// Rounds 4i..4i+3 with cur = W[4i..4i+3], then the schedule: next (which holds
// msg1(W[4i-12..]) ) becomes W[4i+4..4i+7], and prev (W[4i-4..]) gets its msg1 step for
// the group after. The flags are constants once inlined: no next group is needed after
// i = 14, no msg1 after i = 12.
[[gnu::always_inline]] inline void step(V& abef, V& cdgh, V& prev, V cur, V& next, int i,
                                        bool extend, bool premix) noexcept {
    rounds4(abef, cdgh, _mm_add_epi32(cur, k4(i)));
    if (extend) {
        next = _mm_sha256msg2_epu32(_mm_add_epi32(next, _mm_alignr_epi8(cur, prev, 4)), cur);
    }
    if (premix) prev = _mm_sha256msg1_epu32(prev, cur);
}

// Rounds 16..63 once W[0..15] are in m0..m3 and the msg1 steps of rounds 4..15 are done
// (the state after step i = 3). With last_pair_only, stops after round 61: see scan below.
[[gnu::always_inline]] inline void rounds_16_to_63(V& abef, V& cdgh, V& m0, V& m1, V& m2, V& m3,
                                                   bool last_pair_only) noexcept {
    step(abef, cdgh, m3, m0, m1, 4, true, true);
    step(abef, cdgh, m0, m1, m2, 5, true, true);
    step(abef, cdgh, m1, m2, m3, 6, true, true);
    step(abef, cdgh, m2, m3, m0, 7, true, true);
    step(abef, cdgh, m3, m0, m1, 8, true, true);
    step(abef, cdgh, m0, m1, m2, 9, true, true);
    step(abef, cdgh, m1, m2, m3, 10, true, true);
    step(abef, cdgh, m2, m3, m0, 11, true, true);
    step(abef, cdgh, m3, m0, m1, 12, true, true);
    step(abef, cdgh, m0, m1, m2, 13, true, false);
    step(abef, cdgh, m1, m2, m3, 14, true, false);
    if (last_pair_only) {
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, _mm_add_epi32(m3, k4(15)));
    } else {
        step(abef, cdgh, m2, m3, m0, 15, false, false);
    }
}

}  // namespace

void sha256_transform_shani(std::uint32_t state[8], const std::uint8_t* data,
                            std::size_t blocks) noexcept {
    V abef = _mm_loadu_si128(reinterpret_cast<const V*>(state));
    V cdgh = _mm_loadu_si128(reinterpret_cast<const V*>(state + 4));
    to_abef_cdgh(abef, cdgh);
    for (; blocks > 0; --blocks, data += 64) {
        const V saved_abef = abef;
        const V saved_cdgh = cdgh;
        V m0 = load_be(data);
        V m1 = load_be(data + 16);
        V m2 = load_be(data + 32);
        V m3 = load_be(data + 48);
        step(abef, cdgh, m3, m0, m1, 0, false, false);
        step(abef, cdgh, m0, m1, m2, 1, false, true);
        step(abef, cdgh, m1, m2, m3, 2, false, true);
        step(abef, cdgh, m2, m3, m0, 3, true, true);
        rounds_16_to_63(abef, cdgh, m0, m1, m2, m3, false);
        abef = _mm_add_epi32(abef, saved_abef);
        cdgh = _mm_add_epi32(cdgh, saved_cdgh);
    }
    from_abef_cdgh(abef, cdgh);
    _mm_storeu_si128(reinterpret_cast<V*>(state), abef);
    _mm_storeu_si128(reinterpret_cast<V*>(state + 4), cdgh);
}

namespace {

// Everything about a scan that does not depend on the nonce.
//
// First hash, second block: W[0..2] = header bytes 64..75, W[3] = the byte-swapped nonce,
// W[4] = 0x80000000 (the padding bit), W[5..14] = 0, W[15] = 640 (the length in bits).
// Rounds 0 and 1 see only W[0..1], so they are done here once, and so are the message
// schedule steps that see only the constant words W[4..15].
//
// Second hash: W[0..7] = the first digest, W[8] = 0x80000000, W[9..14] = 0, W[15] = 256.
struct ScanConstants {
    V mid_abef, mid_cdgh;  // the midstate
    V abef_after_2;        // ABEF after rounds 0..1 of the second block
    V w0_w2;               // W[0], W[1], W[2], 0
    std::uint32_t w2_k2;   // W[2] + K[2]
    // First hash: message groups 1 and 3 (group 2 is zero), with K added, and the schedule
    // steps that see only them.
    V h1_g1, h1_g3, h1_g1_k, h1_g2_k, h1_g3_k, h1_g1_msg1, h1_g2_msg1, h1_g3_g2_align;
    // Second hash: groups 2 and 3 likewise.
    V h2_g2, h2_g3, h2_g2_k, h2_g3_k, h2_g2_msg1, h2_g3_g2_align;
    V init_abef, init_cdgh;
};

ScanConstants make_constants(const HeaderMidstate& mid) noexcept {
    ScanConstants c;
    c.mid_abef = _mm_loadu_si128(reinterpret_cast<const V*>(mid.state));
    c.mid_cdgh = _mm_loadu_si128(reinterpret_cast<const V*>(mid.state + 4));
    to_abef_cdgh(c.mid_abef, c.mid_cdgh);
    c.w0_w2 = words(mid.tail[0], mid.tail[1], mid.tail[2], 0);
    c.abef_after_2 = _mm_sha256rnds2_epu32(c.mid_cdgh, c.mid_abef, _mm_add_epi32(c.w0_w2, k4(0)));
    c.w2_k2 = mid.tail[2] + kRound[2];

    const V zero = _mm_setzero_si128();
    c.h1_g1 = words(0x80000000, 0, 0, 0);
    c.h1_g3 = words(0, 0, 0, 640);
    c.h1_g1_k = _mm_add_epi32(c.h1_g1, k4(1));
    c.h1_g2_k = k4(2);
    c.h1_g3_k = _mm_add_epi32(c.h1_g3, k4(3));
    c.h1_g1_msg1 = _mm_sha256msg1_epu32(c.h1_g1, zero);
    c.h1_g2_msg1 = _mm_sha256msg1_epu32(zero, c.h1_g3);
    c.h1_g3_g2_align = _mm_alignr_epi8(c.h1_g3, zero, 4);

    c.h2_g2 = words(0x80000000, 0, 0, 0);
    c.h2_g3 = words(0, 0, 0, 256);
    c.h2_g2_k = _mm_add_epi32(c.h2_g2, k4(2));
    c.h2_g3_k = _mm_add_epi32(c.h2_g3, k4(3));
    c.h2_g2_msg1 = _mm_sha256msg1_epu32(c.h2_g2, c.h2_g3);
    c.h2_g3_g2_align = _mm_alignr_epi8(c.h2_g3, c.h2_g2, 4);

    c.init_abef = load_aligned(kInit);
    c.init_cdgh = load_aligned(kInit + 4);
    to_abef_cdgh(c.init_abef, c.init_cdgh);
    return c;
}

// One nonce in flight. kLanes nonces run side by side, interleaved four rounds at a time:
// the round instruction has a latency of four cycles but issues every cycle, so one
// dependency chain leaves the SHA unit mostly idle. Measured on an AMD Zen 4 (EPYC), in
// millions of nonces per second per core: 1 lane 17.6, 2 lanes 28.1, 3 lanes 34.5,
// 4 lanes 34.7. Each lane keeps six registers busy and there are sixteen, so from three
// lanes on some state spills to the stack and a fourth lane no longer pays.
constexpr std::size_t kLanes = 3;

struct Lane {
    V abef, cdgh, m0, m1, m2, m3;
};

template <int J>
[[gnu::always_inline]] inline V& group(Lane& l) noexcept {
    if constexpr (J % 4 == 0) {
        return l.m0;
    } else if constexpr (J % 4 == 1) {
        return l.m1;
    } else if constexpr (J % 4 == 2) {
        return l.m2;
    } else {
        return l.m3;
    }
}

// Rounds 4Q..4Q+3 of the first hash's second block (kSecond false) or of the second hash.
template <bool kSecond, int Q>
[[gnu::always_inline]] inline void quad(const ScanConstants& c, Lane& l) noexcept {
    if constexpr (Q >= 4 && !(kSecond && Q == 15)) {
        step(l.abef, l.cdgh, group<Q + 3>(l), group<Q>(l), group<Q + 1>(l), Q, Q <= 14, Q <= 12);
    } else if constexpr (Q == 15) {
        // The hash is wanted only for its top word, state[7] = H + h64, and h64 = f62 (the
        // variables shift down by one each round), which is lane 0 of the ABEF register
        // after round 61. Rounds 62 and 63 are skipped; a candidate is rehashed in full.
        l.cdgh = _mm_sha256rnds2_epu32(l.cdgh, l.abef, _mm_add_epi32(l.m3, k4(15)));
    } else if constexpr (!kSecond) {
        if constexpr (Q == 1) {
            rounds4(l.abef, l.cdgh, c.h1_g1_k);
            l.m0 = _mm_sha256msg1_epu32(l.m0, c.h1_g1);
        } else if constexpr (Q == 2) {
            rounds4(l.abef, l.cdgh, c.h1_g2_k);
            l.m1 = c.h1_g1_msg1;
        } else if constexpr (Q == 3) {
            rounds4(l.abef, l.cdgh, c.h1_g3_k);
            l.m0 = _mm_sha256msg2_epu32(_mm_add_epi32(l.m0, c.h1_g3_g2_align), c.h1_g3);
            l.m2 = c.h1_g2_msg1;
            l.m3 = c.h1_g3;
        }
    } else {
        if constexpr (Q == 0) {
            rounds4(l.abef, l.cdgh, _mm_add_epi32(l.m0, k4(0)));
        } else if constexpr (Q == 1) {
            rounds4(l.abef, l.cdgh, _mm_add_epi32(l.m1, k4(1)));
            l.m0 = _mm_sha256msg1_epu32(l.m0, l.m1);
        } else if constexpr (Q == 2) {
            rounds4(l.abef, l.cdgh, c.h2_g2_k);
            l.m1 = _mm_sha256msg1_epu32(l.m1, c.h2_g2);
        } else {
            rounds4(l.abef, l.cdgh, c.h2_g3_k);
            l.m0 = _mm_sha256msg2_epu32(_mm_add_epi32(l.m0, c.h2_g3_g2_align), c.h2_g3);
            l.m2 = c.h2_g2_msg1;
            l.m3 = c.h2_g3;
        }
    }
}

// Quads Q..15 for lanes J..N-1 of quad Q and then all lanes of the later quads, unrolled at
// compile time: the lanes must stay in registers, which an index known only at run time
// would prevent.
template <bool kSecond, int Q, std::size_t N, std::size_t J = 0>
[[gnu::always_inline]] inline void quads(const ScanConstants& c, Lane (&lanes)[N]) noexcept {
    quad<kSecond, Q>(c, lanes[J]);
    if constexpr (J + 1 < N) {
        quads<kSecond, Q, N, J + 1>(c, lanes);
    } else if constexpr (Q < 15) {
        quads<kSecond, Q + 1, N, 0>(c, lanes);
    }
}

// Rounds 0..3 of the first hash's second block: rounds 0..1 come precomputed.
[[gnu::always_inline]] inline void first_start(const ScanConstants& c, std::uint32_t nonce,
                                               Lane& l) noexcept {
    const std::uint32_t w3 = __builtin_bswap32(nonce);
    l.m0 = _mm_insert_epi32(c.w0_w2, static_cast<int>(w3), 3);
    l.cdgh = c.abef_after_2;
    l.abef =
        _mm_sha256rnds2_epu32(c.mid_abef, c.abef_after_2, words(c.w2_k2, w3 + kRound[3], 0, 0));
}

// Feed-forward of the first hash; its digest words become the second hash's W[0..7].
[[gnu::always_inline]] inline void second_start(const ScanConstants& c, Lane& l) noexcept {
    l.m0 = _mm_add_epi32(l.abef, c.mid_abef);
    l.m1 = _mm_add_epi32(l.cdgh, c.mid_cdgh);
    from_abef_cdgh(l.m0, l.m1);
    l.abef = c.init_abef;
    l.cdgh = c.init_cdgh;
}

// The top word of the hash as a little-endian 256-bit integer: digest bytes 28..31, which
// hold state[7] big-endian.
[[gnu::always_inline]] inline std::uint32_t top_word(const Lane& l) noexcept {
    return __builtin_bswap32(kInit[7] + static_cast<std::uint32_t>(_mm_cvtsi128_si32(l.cdgh)));
}

// first_start, second_start and top_word for lanes J..N-1, unrolled as in quads(); lane J
// takes nonce + J.
template <std::size_t N, std::size_t J = 0>
[[gnu::always_inline]] inline void first_starts(const ScanConstants& c, std::uint32_t nonce,
                                                Lane (&lanes)[N]) noexcept {
    first_start(c, nonce + static_cast<std::uint32_t>(J), lanes[J]);
    if constexpr (J + 1 < N) first_starts<N, J + 1>(c, nonce, lanes);
}

template <std::size_t N, std::size_t J = 0>
[[gnu::always_inline]] inline void second_starts(const ScanConstants& c,
                                                 Lane (&lanes)[N]) noexcept {
    second_start(c, lanes[J]);
    if constexpr (J + 1 < N) second_starts<N, J + 1>(c, lanes);
}

template <std::size_t N, std::size_t J = 0>
[[gnu::always_inline]] inline void top_words(const Lane (&lanes)[N],
                                             std::uint32_t (&top)[N]) noexcept {
    top[J] = top_word(lanes[J]);
    if constexpr (J + 1 < N) top_words<N, J + 1>(lanes, top);
}

}  // namespace

bool sha256d_scan_shani(const HeaderMidstate& midstate, std::uint32_t first, std::uint32_t count,
                        std::uint32_t top_target, std::uint32_t* tried) noexcept {
    const ScanConstants c = make_constants(midstate);
    // 64-bit so that a count near 2^32 cannot wrap the loop.
    for (std::uint64_t i = 0; i < count; i += kLanes) {
        Lane lanes[kLanes];
        first_starts(c, first + static_cast<std::uint32_t>(i), lanes);
        quads<false, 1>(c, lanes);
        second_starts(c, lanes);
        quads<true, 0>(c, lanes);
        std::uint32_t top[kLanes];
        top_words(lanes, top);
        for (std::size_t j = 0; j < kLanes; ++j) {
            // Lanes past the end of the range, in the last round, are ignored.
            const std::uint64_t index = i + j;
            if (top[j] <= top_target && index < count) [[unlikely]] {
                *tried = static_cast<std::uint32_t>(index + 1);
                return true;
            }
        }
    }
    *tried = count;
    return false;
}

}  // namespace peerchain::crypto::detail
