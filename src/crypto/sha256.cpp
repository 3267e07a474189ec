#include "crypto/sha256.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "util/assert.hpp"

#if defined(PEERCHAIN_HAVE_SHANI)
#include <cpuid.h>

#include "crypto/sha256_shani.hpp"
#endif

namespace peerchain::crypto {

namespace {

inline std::uint32_t rotr(std::uint32_t x, int n) noexcept { return (x >> n) | (x << (32 - n)); }

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

namespace detail {

void sha256_transform_portable(std::uint32_t state[8], const std::uint8_t* data,
                               std::size_t blocks) noexcept {
    for (; blocks > 0; --blocks, data += 64) {
        std::uint32_t w[64];
        for (int i = 0; i < 16; ++i) w[i] = load_be32(data + 4 * i);
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
            const std::uint32_t ch = (e & f) ^ (~e & g);
            const std::uint32_t t1 = h + s1 + ch + detail::kSha256Round[i] + w[i];
            const std::uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
            const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            const std::uint32_t t2 = s0 + maj;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

}  // namespace detail

namespace {

bool cpu_has_shani() noexcept {
#if defined(PEERCHAIN_HAVE_SHANI)
    // __builtin_cpu_supports("sha") is missing from gcc 12, so ask cpuid directly.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    const bool ssse3 = (ecx & (1u << 9)) != 0;
    const bool sse41 = (ecx & (1u << 19)) != 0;
    if (__get_cpuid_max(0, nullptr) < 7) return false;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const bool sha = (ebx & (1u << 29)) != 0;
    return ssse3 && sse41 && sha;
#else
    return false;
#endif
}

Sha256Impl choose_impl() noexcept {
    const char* forced = std::getenv("PEERCHAIN_SHA256");
    if (forced != nullptr && std::strcmp(forced, "portable") == 0) return Sha256Impl::kPortable;
    return cpu_has_shani() ? Sha256Impl::kShaNi : Sha256Impl::kPortable;
}

// Decided once: a magic static is thread-safe and cannot be read before it is initialised,
// even from another translation unit's static constructors.
Sha256Impl active_impl() noexcept {
    static const Sha256Impl impl = choose_impl();
    return impl;
}

}  // namespace

bool sha256_supported(Sha256Impl impl) noexcept {
    switch (impl) {
        case Sha256Impl::kPortable:
            return true;
        case Sha256Impl::kShaNi: {
            static const bool has = cpu_has_shani();
            return has;
        }
    }
    return false;
}

Sha256Impl sha256_active() noexcept { return active_impl(); }

const char* sha256_impl_name(Sha256Impl impl) noexcept {
    return impl == Sha256Impl::kShaNi ? "sha-ni" : "portable";
}

const char* sha256_implementation() noexcept { return sha256_impl_name(active_impl()); }

namespace detail {

Sha256Transform sha256_transform_for(Sha256Impl impl) noexcept {
    if (!sha256_supported(impl)) return nullptr;
#if defined(PEERCHAIN_HAVE_SHANI)
    if (impl == Sha256Impl::kShaNi) return &sha256_transform_shani;
#endif
    return &sha256_transform_portable;
}

namespace {
Sha256Transform active_transform() noexcept {
    static const Sha256Transform transform = sha256_transform_for(active_impl());
    return transform;
}
}  // namespace

void sha256_transform(std::uint32_t state[8], const std::uint8_t* data,
                      std::size_t blocks) noexcept {
    active_transform()(state, data, blocks);
}

}  // namespace detail

Sha256::Sha256() noexcept : transform_(detail::active_transform()) { reset(); }

Sha256::Sha256(Sha256Impl impl) noexcept : transform_(detail::sha256_transform_for(impl)) {
    NODE_ASSERT(transform_ != nullptr);
    reset();
}

void Sha256::reset() noexcept {
    std::memcpy(state_, detail::kSha256Init, sizeof(state_));
    length_ = 0;
}

Sha256& Sha256::write(util::ByteSpan data) noexcept {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    std::size_t used = static_cast<std::size_t>(length_ % 64);
    length_ += n;
    if (used != 0) {
        const std::size_t take = std::min(n, 64 - used);
        std::memcpy(buffer_ + used, p, take);
        p += take;
        n -= take;
        used += take;
        if (used < 64) return *this;
        transform_(state_, buffer_, 1);
    }
    if (n >= 64) {
        transform_(state_, p, n / 64);
        p += n - n % 64;
        n %= 64;
    }
    if (n != 0) std::memcpy(buffer_, p, n);
    return *this;
}

Digest Sha256::finalize() noexcept {
    static constexpr std::uint8_t kPad[64] = {0x80};
    std::uint8_t length_be[8];
    const std::uint64_t bits = length_ << 3;
    for (int i = 0; i < 8; ++i) length_be[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
    const std::size_t used = static_cast<std::size_t>(length_ % 64);
    write({kPad, 1 + ((119 - used) % 64)});
    write({length_be, 8});
    Digest out;
    for (int i = 0; i < 8; ++i) store_be32(out.data() + 4 * i, state_[i]);
    reset();
    return out;
}

Digest sha256(util::ByteSpan data) noexcept { return Sha256().write(data).finalize(); }

Digest sha256d(util::ByteSpan data) noexcept {
    const Digest first = sha256(data);
    return sha256(first);
}

Sha256 tagged_hasher(std::string_view tag) noexcept {
    const Digest tag_hash = sha256(util::as_bytes(tag));
    Sha256 hasher;
    hasher.write(tag_hash).write(tag_hash);
    return hasher;
}

Digest tagged_hash(std::string_view tag, util::ByteSpan data) noexcept {
    return tagged_hasher(tag).write(data).finalize();
}

}  // namespace peerchain::crypto
