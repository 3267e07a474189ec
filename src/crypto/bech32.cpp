#include "crypto/bech32.hpp"

#include <array>

#include "util/assert.hpp"
#include "util/strings.hpp"

namespace peerchain::crypto {

namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::size_t kMaxHrpLength = 83;

// Character -> group value, or -1 when not in the charset (upper case is folded first).
constexpr std::array<std::int8_t, 128> kCharsetRev = [] {
    std::array<std::int8_t, 128> rev{};
    rev.fill(-1);
    for (std::size_t i = 0; i < kCharset.size(); ++i) {
        rev[static_cast<std::size_t>(kCharset[i])] = static_cast<std::int8_t>(i);
    }
    return rev;
}();

constexpr std::uint32_t checksum_constant(Bech32Encoding encoding) {
    return encoding == Bech32Encoding::kBech32 ? 1u : 0x2bc830a3u;
}

const char* encoding_name(Bech32Encoding encoding) {
    return encoding == Bech32Encoding::kBech32 ? "bech32" : "bech32m";
}

// The BCH code's generator, as given in BIP173.
std::uint32_t polymod_step(std::uint32_t chk, std::uint8_t value) {
    const std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffffu) << 5) ^ value;
    constexpr std::array<std::uint32_t, 5> kGen = {0x3b6a57b2u, 0x26508e6du, 0x1ea119fau,
                                                   0x3d4233ddu, 0x2a1462b3u};
    for (std::size_t i = 0; i < 5; ++i) {
        if ((top >> i) & 1u) chk ^= kGen[i];
    }
    return chk;
}

// Polymod over the expanded hrp (high bits, a zero, low bits) and the data groups.
std::uint32_t polymod(std::string_view hrp, std::span<const std::uint8_t> data) {
    std::uint32_t chk = 1;
    for (char c : hrp) chk = polymod_step(chk, static_cast<std::uint8_t>(c) >> 5);
    chk = polymod_step(chk, 0);
    for (char c : hrp) chk = polymod_step(chk, static_cast<std::uint8_t>(c) & 31u);
    for (std::uint8_t v : data) chk = polymod_step(chk, v);
    return chk;
}

util::Unexpected fail(std::string message) {
    return util::Unexpected(util::Errc::kDecode, std::move(message));
}

}  // namespace

std::string bech32_encode(Bech32Encoding encoding, std::string_view hrp,
                          std::span<const std::uint8_t> data) {
    NODE_ASSERT(!hrp.empty() && hrp.size() <= kMaxHrpLength);
    NODE_ASSERT(hrp.size() + 1 + data.size() + kBech32ChecksumLength <= kBech32MaxLength);
    std::string lower;
    lower.reserve(hrp.size());
    for (char c : hrp) {
        NODE_ASSERT(c >= 33 && c <= 126);
        lower.push_back(util::ascii_lower(c));
    }
    std::vector<std::uint8_t> values(data.begin(), data.end());
    for (std::uint8_t v : values) NODE_ASSERT(v < 32);
    values.resize(values.size() + kBech32ChecksumLength, 0);
    const std::uint32_t mod = polymod(lower, values) ^ checksum_constant(encoding);
    for (std::size_t i = 0; i < kBech32ChecksumLength; ++i) {
        values[data.size() + i] = static_cast<std::uint8_t>((mod >> (5 * (5 - i))) & 31u);
    }
    std::string out = std::move(lower);
    out.push_back('1');
    for (std::uint8_t v : values) out.push_back(kCharset[v]);
    return out;
}

util::Result<Bech32Decoded> bech32_decode(std::string_view str, Bech32Encoding encoding) {
    if (str.size() > kBech32MaxLength) {
        return fail("longer than " + std::to_string(kBech32MaxLength) + " characters");
    }
    bool lower = false;
    bool upper = false;
    for (std::size_t i = 0; i < str.size(); ++i) {
        const auto c = static_cast<unsigned char>(str[i]);
        if (c < 33 || c > 126) {
            return fail("character out of range (byte " + std::to_string(c) + ") at position " +
                        std::to_string(i));
        }
        if (c >= 'a' && c <= 'z') lower = true;
        if (c >= 'A' && c <= 'Z') upper = true;
    }
    if (lower && upper) return fail("mixed upper and lower case");
    // The hrp may itself contain '1' (BIP173), so the separator is the last one.
    const std::size_t sep = str.rfind('1');
    if (sep == std::string_view::npos) return fail("no separator '1'");
    if (sep == 0) return fail("empty human-readable part");
    if (sep > kMaxHrpLength) return fail("human-readable part longer than 83 characters");
    if (str.size() - sep - 1 < kBech32ChecksumLength) return fail("checksum too short");

    Bech32Decoded out;
    out.hrp.reserve(sep);
    for (std::size_t i = 0; i < sep; ++i) out.hrp.push_back(util::ascii_lower(str[i]));
    std::vector<std::uint8_t> values;
    values.reserve(str.size() - sep - 1);
    for (std::size_t i = sep + 1; i < str.size(); ++i) {
        // Every byte is below 127 here, so the table look-up is in bounds.
        const std::int8_t v = kCharsetRev[static_cast<unsigned char>(util::ascii_lower(str[i]))];
        if (v < 0) {
            return fail(std::string("invalid data character '") + str[i] + "' at position " +
                        std::to_string(i));
        }
        values.push_back(static_cast<std::uint8_t>(v));
    }
    const std::uint32_t mod = polymod(out.hrp, values);
    if (mod != checksum_constant(encoding)) {
        const Bech32Encoding other = encoding == Bech32Encoding::kBech32 ? Bech32Encoding::kBech32m
                                                                         : Bech32Encoding::kBech32;
        if (mod == checksum_constant(other)) {
            return fail(std::string("a ") + encoding_name(other) + " checksum where " +
                        encoding_name(encoding) + " is required");
        }
        return fail(std::string("bad ") + encoding_name(encoding) + " checksum");
    }
    values.resize(values.size() - kBech32ChecksumLength);
    out.data = std::move(values);
    return out;
}

std::vector<std::uint8_t> bytes_to_groups(std::span<const std::uint8_t> bytes) {
    std::vector<std::uint8_t> out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    std::uint32_t acc = 0;
    unsigned bits = 0;
    for (std::uint8_t b : bytes) {
        acc = ((acc << 8) | b) & 0xfffu;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 31u));
        }
    }
    if (bits > 0) out.push_back(static_cast<std::uint8_t>((acc << (5 - bits)) & 31u));
    return out;
}

util::Result<std::vector<std::uint8_t>> groups_to_bytes(std::span<const std::uint8_t> groups) {
    std::vector<std::uint8_t> out;
    out.reserve(groups.size() * 5 / 8);
    std::uint32_t acc = 0;
    unsigned bits = 0;
    for (std::uint8_t g : groups) {
        if (g >= 32) return fail("group value out of range");
        acc = ((acc << 5) | g) & 0xfffu;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xffu));
        }
    }
    // BIP173: an incomplete group at the end must be 4 bits or less and all zero.
    if (bits >= 5) return fail("more than 4 bits of padding");
    if ((acc & ((1u << bits) - 1u)) != 0) return fail("non-zero padding bits");
    return out;
}

}  // namespace peerchain::crypto
