// Binary serialization: little-endian integers and Bitcoin's CompactSize lengths.
//
//   compact_size := n < 0xfd            : u8(n)
//                 | n <= 0xffff          : u8(0xfd) u16(n)
//                 | n <= 0xffffffff      : u8(0xfe) u32(n)
//                 | otherwise            : u8(0xff) u64(n)
//   A CompactSize must use its shortest form; a longer one is rejected as non-canonical.
//
// Writer appends to a byte vector. Reader reads from a bounded span and never reads past
// it: every read reports failure instead, and callers check `at_end()` to refuse trailing
// bytes.
//
// Thread-safety: plain objects, one thread each.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "core/uint256.hpp"
#include "util/bytes.hpp"

namespace peerchain::core {

class Writer {
  public:
    explicit Writer(util::Bytes& out) noexcept : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { put_le(v, 2); }
    void u32(std::uint32_t v) { put_le(v, 4); }
    void u64(std::uint64_t v) { put_le(v, 8); }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void compact_size(std::uint64_t n);
    void bytes(util::ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
    // CompactSize length, then the bytes.
    void var_bytes(util::ByteSpan b) {
        compact_size(b.size());
        bytes(b);
    }
    void hash(const Uint256& h) { bytes(h.span()); }

    std::size_t size() const noexcept { return out_.size(); }

  private:
    void put_le(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    util::Bytes& out_;
};

class Reader {
  public:
    explicit Reader(util::ByteSpan in) noexcept : in_(in) {}

    // Each read returns false (and leaves the reader failed) when the input is short.
    bool u8(std::uint8_t& v) noexcept;
    bool u16(std::uint16_t& v) noexcept;
    bool u32(std::uint32_t& v) noexcept;
    bool u64(std::uint64_t& v) noexcept;
    bool i64(std::int64_t& v) noexcept;
    // Fails on a non-canonical encoding or a value above `max`.
    bool compact_size(std::uint64_t& n, std::uint64_t max) noexcept;
    bool bytes(std::uint8_t* out, std::size_t n) noexcept;
    // A CompactSize length of at most `max`, then that many bytes. The length is checked
    // before anything is allocated.
    bool var_bytes(util::Bytes& out, std::size_t max);
    bool hash(Uint256& h) noexcept;
    template <std::size_t N>
    bool array(std::array<std::uint8_t, N>& out) noexcept {
        return bytes(out.data(), N);
    }
    bool skip(std::size_t n) noexcept;

    std::size_t remaining() const noexcept { return in_.size() - pos_; }
    std::size_t position() const noexcept { return pos_; }
    bool at_end() const noexcept { return pos_ == in_.size(); }
    bool failed() const noexcept { return failed_; }
    util::ByteSpan consumed_since(std::size_t start) const noexcept {
        return in_.subspan(start, pos_ - start);
    }

  private:
    bool take(std::size_t n) noexcept;
    util::ByteSpan in_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

std::size_t compact_size_length(std::uint64_t n) noexcept;

}  // namespace peerchain::core
