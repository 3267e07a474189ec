#include "crypto/header_scanner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/util/test_util.hpp"

namespace peerchain::crypto {
namespace {

using Header = std::array<std::uint8_t, 80>;
using Target = std::array<std::uint8_t, 32>;

Header random_header() {
    const util::Bytes bytes = testutil::random_bytes(80);
    Header h;
    std::copy(bytes.begin(), bytes.end(), h.begin());
    return h;
}

void put_le32(Header& h, std::size_t offset, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        h[offset + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

Digest plain_hash(Header header, std::uint32_t nonce) {
    put_le32(header, 76, nonce);
    return sha256d(header);
}

// The plain definition: compare as 256-bit little-endian integers, byte 31 first.
bool plain_meets(const Digest& hash, const Target& target) {
    return !std::lexicographical_compare(target.rbegin(), target.rend(), hash.rbegin(),
                                         hash.rend());
}

// Every nonce in [first, first+count) that meets the target, by scanning and resuming.
std::vector<std::uint32_t> scan_all(const HeaderScanner& scanner, std::uint32_t first,
                                    std::uint32_t count, const Target& target) {
    std::vector<std::uint32_t> found;
    std::uint32_t next = first;
    std::uint32_t left = count;
    while (left > 0) {
        std::uint64_t done = 0;
        const auto nonce = scanner.scan(next, left, target, &done);
        EXPECT_LE(done, left);
        if (!nonce) {
            EXPECT_EQ(done, left);
            break;
        }
        EXPECT_EQ(*nonce, static_cast<std::uint32_t>(next + done - 1));
        found.push_back(*nonce);
        next += static_cast<std::uint32_t>(done);
        left -= static_cast<std::uint32_t>(done);
    }
    return found;
}

std::vector<std::uint32_t> plain_all(const Header& header, std::uint32_t first, std::uint32_t count,
                                     const Target& target) {
    std::vector<std::uint32_t> found;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (plain_meets(plain_hash(header, first + i), target)) found.push_back(first + i);
    }
    return found;
}

class HeaderScannerTest : public ::testing::TestWithParam<Sha256Impl> {
  protected:
    void SetUp() override {
        if (!sha256_supported(GetParam())) {
            GTEST_SKIP() << sha256_impl_name(GetParam()) << " is not supported on this CPU";
        }
    }
};

TEST_P(HeaderScannerTest, FindsExactlyWhatAPlainSearchFinds) {
    const Header header = random_header();
    const HeaderScanner scanner(header, GetParam());
    // About one hash in 16 passes. The SHA-NI kernel hashes several nonces at once, so the
    // counts cover every remainder.
    Target easy;
    easy.fill(0xff);
    easy[31] = 0x0f;
    const std::uint32_t first = static_cast<std::uint32_t>(testutil::rng()());
    for (const std::uint32_t count : {5000u, 5001u, 5002u, 5003u}) {
        const auto expected = plain_all(header, first, count, easy);
        ASSERT_GT(expected.size(), 200u);
        EXPECT_EQ(scan_all(scanner, first, count, easy), expected) << "count " << count;
    }
}

TEST_P(HeaderScannerTest, NoncesPastTheEndOfTheRangeAreNeverReported) {
    const Header header = random_header();
    const HeaderScanner scanner(header, GetParam());
    // The nonce with the smallest hash in [10, 200), as the target: only it meets it. Scans
    // that stop just short of it must not report it, even when it is hashed alongside.
    std::uint32_t best = 10;
    for (std::uint32_t nonce = 11; nonce < 200; ++nonce) {
        if (!plain_meets(plain_hash(header, best), plain_hash(header, nonce))) best = nonce;
    }
    const Digest best_hash = plain_hash(header, best);
    Target target;
    std::copy(best_hash.begin(), best_hash.end(), target.begin());
    for (const std::uint32_t count : {1u, 2u, 3u, 4u, 5u, 7u}) {
        std::uint64_t done = 0;
        EXPECT_EQ(scanner.scan(best - count, count, target, &done), std::nullopt)
            << "count " << count;
        EXPECT_EQ(done, count);
        EXPECT_EQ(scanner.scan(best - count, count + 1, target, &done), best);
        EXPECT_EQ(done, count + 1);
    }
}

TEST_P(HeaderScannerTest, TargetEqualToAHashDecidesOnTheLowerWords) {
    const Header header = random_header();
    const HeaderScanner scanner(header, GetParam());
    const std::uint32_t first = 1000;
    const std::uint32_t count = 64;
    // The smallest hash in the range as the target: the top words tie, and only the full
    // comparison separates it from the hash just below.
    Digest smallest = plain_hash(header, first);
    for (std::uint32_t i = 1; i < count; ++i) {
        const Digest h = plain_hash(header, first + i);
        if (!plain_meets(smallest, h)) smallest = h;
    }
    Target exact;
    std::copy(smallest.begin(), smallest.end(), exact.begin());
    const auto hits = scan_all(scanner, first, count, exact);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(plain_hash(header, hits[0]), smallest);

    Target below = exact;  // exact - 1 as a little-endian integer
    for (auto& byte : below) {
        if (byte-- != 0) break;
    }
    EXPECT_TRUE(scan_all(scanner, first, count, below).empty());
    EXPECT_EQ(scan_all(scanner, first, count, below), plain_all(header, first, count, below));
}

TEST_P(HeaderScannerTest, NonceRangeWrapsAround) {
    const Header header = random_header();
    const HeaderScanner scanner(header, GetParam());
    Target easy;
    easy.fill(0xff);
    easy[31] = 0x1f;
    const std::uint32_t first = 0xffffff00u;
    const std::uint32_t count = 0x202;
    EXPECT_EQ(scan_all(scanner, first, count, easy), plain_all(header, first, count, easy));
}

TEST_P(HeaderScannerTest, MaximumTargetAcceptsTheFirstNonce) {
    const HeaderScanner scanner(random_header(), GetParam());
    Target all;
    all.fill(0xff);
    std::uint64_t done = 0;
    EXPECT_EQ(scanner.scan(12345, 100, all, &done), 12345u);
    EXPECT_EQ(done, 1u);
}

TEST_P(HeaderScannerTest, ZeroTargetFindsNothing) {
    const HeaderScanner scanner(random_header(), GetParam());
    const Target zero{};
    for (const std::uint32_t count : {0u, 1u, 2u, 1001u, 4096u}) {
        std::uint64_t done = 99;
        EXPECT_EQ(scanner.scan(7, count, zero, &done), std::nullopt);
        EXPECT_EQ(done, count);
    }
    EXPECT_EQ(scanner.scan(7, 10, zero, nullptr), std::nullopt);
}

TEST_P(HeaderScannerTest, HashMatchesPlainSha256dAndIgnoresTheHeadersNonce) {
    Header header = random_header();
    const HeaderScanner scanner(header, GetParam());
    for (const std::uint32_t nonce : {0u, 1u, 0x12345678u, 0xffffffffu}) {
        EXPECT_EQ(scanner.hash(nonce), plain_hash(header, nonce));
    }
}

TEST_P(HeaderScannerTest, SetTimeRehashesWithTheNewTime) {
    Header header = random_header();
    HeaderScanner scanner(header, GetParam());
    scanner.set_time(0x65000000);
    put_le32(header, 68, 0x65000000);
    EXPECT_EQ(scanner.hash(42), plain_hash(header, 42));
    Target easy;
    easy.fill(0xff);
    easy[31] = 0x0f;
    EXPECT_EQ(scan_all(scanner, 0, 999, easy), plain_all(header, 0, 999, easy));
}

TEST(HeaderScanner, DefaultUsesTheActiveTransform) {
    const Header header = random_header();
    EXPECT_EQ(HeaderScanner(header).implementation(), sha256_active());
}

TEST(HeaderScanner, MeetsTargetComparesFromTheMostSignificantByte) {
    Digest hash{};
    Target target{};
    EXPECT_TRUE(HeaderScanner::meets_target(hash, target));
    hash[0] = 1;  // least significant byte
    EXPECT_FALSE(HeaderScanner::meets_target(hash, target));
    target[31] = 1;  // most significant byte
    EXPECT_TRUE(HeaderScanner::meets_target(hash, target));
    hash[31] = 2;
    EXPECT_FALSE(HeaderScanner::meets_target(hash, target));
}

INSTANTIATE_TEST_SUITE_P(Transforms, HeaderScannerTest,
                         ::testing::Values(Sha256Impl::kPortable, Sha256Impl::kShaNi),
                         [](const ::testing::TestParamInfo<Sha256Impl>& p) {
                             return std::string(p.param == Sha256Impl::kShaNi ? "ShaNi"
                                                                              : "Portable");
                         });

}  // namespace
}  // namespace peerchain::crypto
