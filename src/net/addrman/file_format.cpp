#include "net/addrman/file_format.hpp"

#include <algorithm>
#include <cstdint>

#include "crypto/sha256.hpp"
#include "util/assert.hpp"

namespace peerchain::net::addrman::detail {

namespace {

bool printable(char c) { return c >= 0x20 && c <= 0x7e; }

}  // namespace

void write_str(core::Writer& w, std::string_view s) {
    NODE_ASSERT(s.size() <= 0xffff);
    w.u16(static_cast<std::uint16_t>(s.size()));
    w.bytes(util::as_bytes(s));
}

bool read_str(core::Reader& r, std::string& out, std::size_t max) {
    std::uint16_t n = 0;
    if (!r.u16(n) || n > max || n > r.remaining()) return false;
    out.resize(n);
    if (!r.bytes(reinterpret_cast<std::uint8_t*>(out.data()), n)) return false;
    return std::all_of(out.begin(), out.end(), printable);
}

void append_checksum(util::Bytes& bytes) {
    const crypto::Digest digest = crypto::sha256(bytes);
    bytes.insert(bytes.end(), digest.begin(), digest.end());
}

util::Result<util::ByteSpan> strip_checksum(util::ByteSpan bytes) {
    constexpr std::size_t kSize = sizeof(crypto::Digest);
    if (bytes.size() < kSize) {
        return util::Unexpected(util::Errc::kCorruption, "shorter than its checksum");
    }
    const auto body = bytes.first(bytes.size() - kSize);
    const crypto::Digest digest = crypto::sha256(body);
    if (!std::equal(digest.begin(), digest.end(), bytes.begin() + body.size())) {
        return util::Unexpected(util::Errc::kCorruption, "checksum mismatch");
    }
    return body;
}

}  // namespace peerchain::net::addrman::detail
