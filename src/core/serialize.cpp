#include "core/serialize.hpp"

namespace peerchain::core {

std::size_t compact_size_length(std::uint64_t n) noexcept {
    if (n < 0xfd) return 1;
    if (n <= 0xffff) return 3;
    if (n <= 0xffffffff) return 5;
    return 9;
}

void Writer::compact_size(std::uint64_t n) {
    if (n < 0xfd) {
        u8(static_cast<std::uint8_t>(n));
    } else if (n <= 0xffff) {
        u8(0xfd);
        u16(static_cast<std::uint16_t>(n));
    } else if (n <= 0xffffffff) {
        u8(0xfe);
        u32(static_cast<std::uint32_t>(n));
    } else {
        u8(0xff);
        u64(n);
    }
}

bool Reader::take(std::size_t n) noexcept {
    if (failed_ || remaining() < n) {
        failed_ = true;
        return false;
    }
    return true;
}

bool Reader::u8(std::uint8_t& v) noexcept {
    if (!take(1)) return false;
    v = in_[pos_++];
    return true;
}

bool Reader::u16(std::uint16_t& v) noexcept {
    if (!take(2)) return false;
    v = static_cast<std::uint16_t>(in_[pos_] | (in_[pos_ + 1] << 8));
    pos_ += 2;
    return true;
}

bool Reader::u32(std::uint32_t& v) noexcept {
    if (!take(4)) return false;
    v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | in_[pos_ + static_cast<std::size_t>(i)];
    pos_ += 4;
    return true;
}

bool Reader::u64(std::uint64_t& v) noexcept {
    if (!take(8)) return false;
    v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | in_[pos_ + static_cast<std::size_t>(i)];
    pos_ += 8;
    return true;
}

bool Reader::i64(std::int64_t& v) noexcept {
    std::uint64_t u;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
}

bool Reader::compact_size(std::uint64_t& n, std::uint64_t max) noexcept {
    std::uint8_t first;
    if (!u8(first)) return false;
    bool ok = true;
    if (first < 0xfd) {
        n = first;
    } else if (first == 0xfd) {
        std::uint16_t v = 0;
        ok = u16(v) && v >= 0xfd;
        n = v;
    } else if (first == 0xfe) {
        std::uint32_t v = 0;
        ok = u32(v) && v > 0xffff;
        n = v;
    } else {
        ok = u64(n) && n > 0xffffffff;
    }
    if (!ok || n > max) {
        failed_ = true;
        return false;
    }
    return true;
}

bool Reader::bytes(std::uint8_t* out, std::size_t n) noexcept {
    if (!take(n)) return false;
    if (n != 0) std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return true;
}

bool Reader::var_bytes(util::Bytes& out, std::size_t max) {
    std::uint64_t n;
    if (!compact_size(n, max)) return false;
    if (!take(static_cast<std::size_t>(n))) return false;
    out.assign(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
               in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += static_cast<std::size_t>(n);
    return true;
}

bool Reader::hash(Uint256& h) noexcept { return bytes(h.data(), Uint256::kSize); }

bool Reader::skip(std::size_t n) noexcept {
    if (!take(n)) return false;
    pos_ += n;
    return true;
}

}  // namespace peerchain::core
