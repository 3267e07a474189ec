// The pieces the address book's and the ban list's files share, on top of core's
// little-endian Writer and Reader: a length-prefixed string of printable ASCII and a
// SHA-256 trailer over the whole file. Internal to this module.
//
//   str      = u16 length, bytes          ; length checked against a bound before use;
//                                         ; each byte printable ASCII (0x20..0x7e)
//   trailer  = 32 bytes                   ; SHA-256 of every byte before it
//
// Thread-safety: free functions, callable from any thread on objects the caller owns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/serialize.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::net::addrman::detail {

// Appends `s` as a str. The caller keeps it under 65536 bytes (NODE_ASSERT) and printable.
void write_str(core::Writer& w, std::string_view s);
// Reads a str of at most `max` bytes into `out`. False when the input is short, the length
// is above `max` or a byte is not printable; the reader is then not to be read further.
bool read_str(core::Reader& r, std::string& out, std::size_t max);

// Appends the trailer.
void append_checksum(util::Bytes& bytes);
// The bytes before the trailer, or kCorruption when the input is shorter than one or the
// trailer does not match.
util::Result<util::ByteSpan> strip_checksum(util::ByteSpan bytes);

}  // namespace peerchain::net::addrman::detail
