#include "crypto/header_scanner.hpp"

#include <cstring>

#include "crypto/sha256_shani.hpp"
#include "util/assert.hpp"

namespace peerchain::crypto {

namespace {

std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}

void store_le32(std::uint8_t* p, std::uint32_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v >> 16);
    p[3] = static_cast<std::uint8_t>(v >> 24);
}

// The second block of an 80-byte message: bytes 64..79, the padding bit, zeros, and the
// length 640 bits big-endian in the last 8 bytes.
void fill_header_block(std::uint8_t block[64], const std::uint8_t tail[16]) noexcept {
    std::memset(block, 0, 64);
    std::memcpy(block, tail, 16);
    block[16] = 0x80;
    block[62] = 640 >> 8;
    block[63] = 640 & 0xff;
}

// The only block of a 32-byte message, less its first 32 bytes: padding bit, zeros, and
// the length 256 bits.
void fill_digest_block(std::uint8_t block[64]) noexcept {
    std::memset(block, 0, 64);
    block[32] = 0x80;
    block[62] = 256 >> 8;
}

// The contract of detail::sha256d_scan_shani, with the portable transform.
bool sha256d_scan_portable(const detail::HeaderMidstate& midstate, std::uint32_t first,
                           std::uint32_t count, std::uint32_t top_target,
                           std::uint32_t* tried) noexcept {
    std::uint8_t tail[16] = {};
    for (int i = 0; i < 3; ++i) store_be32(tail + 4 * i, midstate.tail[i]);
    std::uint8_t block1[64];
    std::uint8_t block2[64];
    fill_header_block(block1, tail);
    fill_digest_block(block2);
    for (std::uint64_t i = 0; i < count; ++i) {
        store_le32(block1 + 12, first + static_cast<std::uint32_t>(i));
        std::uint32_t state[8];
        std::memcpy(state, midstate.state, sizeof(state));
        detail::sha256_transform_portable(state, block1, 1);
        for (int w = 0; w < 8; ++w) store_be32(block2 + 4 * w, state[w]);
        std::memcpy(state, detail::kSha256Init, sizeof(state));
        detail::sha256_transform_portable(state, block2, 1);
        // Digest bytes 28..31 hold state[7] big-endian; read little-endian they are the
        // integer's top word.
        if (__builtin_bswap32(state[7]) <= top_target) {
            *tried = static_cast<std::uint32_t>(i + 1);
            return true;
        }
    }
    *tried = count;
    return false;
}

}  // namespace

HeaderScanner::HeaderScanner(std::span<const std::uint8_t, kHeaderSize> header) noexcept
    : HeaderScanner(header, sha256_active()) {}

HeaderScanner::HeaderScanner(std::span<const std::uint8_t, kHeaderSize> header,
                             Sha256Impl impl) noexcept
    : impl_(impl) {
    const detail::Sha256Transform transform = detail::sha256_transform_for(impl);
    NODE_ASSERT(transform != nullptr);
    std::memcpy(midstate_, detail::kSha256Init, sizeof(midstate_));
    transform(midstate_, header.data(), 1);
    std::memcpy(tail_, header.data() + 64, sizeof(tail_));
}

void HeaderScanner::set_time(std::uint32_t time) noexcept {
    store_le32(tail_ + (kTimeOffset - 64), time);
}

Digest HeaderScanner::hash(std::uint32_t nonce) const noexcept {
    const detail::Sha256Transform transform = detail::sha256_transform_for(impl_);
    std::uint8_t block[64];
    fill_header_block(block, tail_);
    store_le32(block + (kNonceOffset - 64), nonce);
    std::uint32_t state[8];
    std::memcpy(state, midstate_, sizeof(state));
    transform(state, block, 1);
    fill_digest_block(block);
    for (int w = 0; w < 8; ++w) store_be32(block + 4 * w, state[w]);
    std::memcpy(state, detail::kSha256Init, sizeof(state));
    transform(state, block, 1);
    Digest out;
    for (int w = 0; w < 8; ++w) store_be32(out.data() + 4 * w, state[w]);
    return out;
}

bool HeaderScanner::meets_target(const Digest& hash,
                                 const std::array<std::uint8_t, 32>& target_le) noexcept {
    for (std::size_t i = 32; i-- > 0;) {
        if (hash[i] != target_le[i]) return hash[i] < target_le[i];
    }
    return true;
}

std::optional<std::uint32_t> HeaderScanner::scan(std::uint32_t first, std::uint32_t count,
                                                 const std::array<std::uint8_t, 32>& target_le,
                                                 std::uint64_t* hashes_done) const noexcept {
    detail::HeaderMidstate midstate;
    std::memcpy(midstate.state, midstate_, sizeof(midstate.state));
    for (int i = 0; i < 3; ++i) midstate.tail[i] = load_be32(tail_ + 4 * i);
    const std::uint32_t top_target =
        std::uint32_t{target_le[28]} | (std::uint32_t{target_le[29]} << 8) |
        (std::uint32_t{target_le[30]} << 16) | (std::uint32_t{target_le[31]} << 24);
    auto kernel = &sha256d_scan_portable;
#if defined(PEERCHAIN_HAVE_SHANI)
    if (impl_ == Sha256Impl::kShaNi) kernel = &detail::sha256d_scan_shani;
#endif

    // The kernel stops at every hash whose top word is <= the target's. All of those pass
    // except when the top words are equal (one hash in 2^32), so the full comparison and
    // the rehash it needs cost nothing in the aggregate.
    std::uint64_t done = 0;
    std::uint32_t next = first;
    std::uint32_t left = count;
    std::optional<std::uint32_t> found;
    while (left > 0) {
        std::uint32_t tried = 0;
        const bool candidate = kernel(midstate, next, left, top_target, &tried);
        done += tried;
        if (!candidate) break;
        const std::uint32_t nonce = next + tried - 1;
        if (meets_target(hash(nonce), target_le)) {
            found = nonce;
            break;
        }
        next += tried;
        left -= tried;
    }
    if (hashes_done != nullptr) *hashes_done = done;
    return found;
}

}  // namespace peerchain::crypto
