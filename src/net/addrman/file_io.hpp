// The pieces the address book's and the ban list's files share: little-endian integers
// and length-prefixed strings, a SHA-256 trailer over the whole file, and a bounded read
// of a small file. Internal to this module.
//
//   str      = u16 length, bytes          ; length checked against a bound before use
//   trailer  = 32 bytes                   ; SHA-256 of every byte before it
//
// Thread-safety: plain objects, one thread each; the free functions from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::net::addrman::detail {

class Writer {
  public:
    explicit Writer(util::Bytes& out) noexcept : out_(out) {}
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { put_le(v, 2); }
    void u32(std::uint32_t v) { put_le(v, 4); }
    void i64(std::int64_t v) { put_le(static_cast<std::uint64_t>(v), 8); }
    void bytes(util::ByteSpan b) { out_.insert(out_.end(), b.begin(), b.end()); }
    // The caller keeps strings under 65536 bytes (NODE_ASSERT).
    void str(const std::string& s);

  private:
    void put_le(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    util::Bytes& out_;
};

// Reads from a bounded span; every read returns false when the input is short (and stays
// failed), and never reads past the end.
class Reader {
  public:
    explicit Reader(util::ByteSpan in) noexcept : in_(in) {}
    bool u8(std::uint8_t& v) noexcept;
    bool u16(std::uint16_t& v) noexcept;
    bool u32(std::uint32_t& v) noexcept;
    bool i64(std::int64_t& v) noexcept;
    bool bytes(std::uint8_t* out, std::size_t n) noexcept;
    // A str of at most `max` bytes, each printable ASCII (0x20..0x7e).
    bool str(std::string& out, std::size_t max);
    bool at_end() const noexcept { return pos_ == in_.size(); }

  private:
    bool take(std::size_t n) noexcept;
    util::ByteSpan in_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

// Appends the trailer.
void append_checksum(util::Bytes& bytes);
// The bytes before the trailer, or kCorruption when the file is shorter than one or the
// trailer does not match.
util::Result<util::ByteSpan> strip_checksum(util::ByteSpan bytes);

// The whole of the regular file at `path`, if at most `limit` bytes. kNotFound when it
// does not exist, kCorruption when it is larger or not a regular file, kIo otherwise.
util::Result<util::Bytes> read_file(const std::filesystem::path& path, std::size_t limit);

}  // namespace peerchain::net::addrman::detail
