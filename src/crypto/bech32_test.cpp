#include "crypto/bech32.hpp"

#include <gtest/gtest.h>

#include <string>

#include "util/strings.hpp"

namespace peerchain::crypto {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = util::ascii_lower(c);
    return s;
}

struct Invalid {
    std::string str;
    const char* reason;
};

// BIP173, "The following strings are valid Bech32".
const std::vector<std::string> kValidBech32 = {
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
};

// BIP350, "The following strings are valid Bech32m".
const std::vector<std::string> kValidBech32m = {
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
};

// BIP173, "The following string are not valid Bech32"; a leading 0xNN + is the raw byte.
const std::vector<Invalid> kInvalidBech32 = {
    {"\x20"
     "1nwldj5",
     "HRP character out of range"},
    {"\x7f"
     "1axkwrx",
     "HRP character out of range"},
    {"\x80"
     "1eym55h",
     "HRP character out of range"},
    {"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
     "overall max length exceeded"},
    {"pzry9x0s0muk", "No separator character"},
    {"1pzry9x0s0muk", "Empty HRP"},
    {"x1b4n0q5v", "Invalid data character"},
    {"li1dgmt3", "Too short checksum"},
    {"de1lg7wt\xff", "Invalid character in checksum"},
    {"A1G7SGD8", "checksum calculated with uppercase form of HRP"},
    {"10a06t8", "empty HRP"},
    {"1qzzfhee", "empty HRP"},
};

// BIP350, "The following string are not valid Bech32m".
const std::vector<Invalid> kInvalidBech32m = {
    {"\x20"
     "1xj0phk",
     "HRP character out of range"},
    {"\x7f"
     "1g6xzxy",
     "HRP character out of range"},
    {"\x80"
     "1vctc34",
     "HRP character out of range"},
    {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
     "overall max length exceeded"},
    {"qyrz8wqd2c9m", "No separator character"},
    {"1qyrz8wqd2c9m", "Empty HRP"},
    {"y1b0jsk6g", "Invalid data character"},
    {"lt1igcx5c0", "Invalid data character"},
    {"in1muywd", "Too short checksum"},
    {"mm1crxm3i", "Invalid character in checksum"},
    {"au1s5cgom", "Invalid character in checksum"},
    {"M1VUXWEZ", "checksum calculated with uppercase form of HRP"},
    {"16plkw9", "empty HRP"},
    {"1p2gdwpf", "empty HRP"},
};

void expect_valid(const std::string& str, Bech32Encoding encoding, Bech32Encoding other) {
    auto decoded = bech32_decode(str, encoding);
    ASSERT_TRUE(decoded) << str << ": " << decoded.error().message;
    EXPECT_EQ(bech32_encode(encoding, decoded->hrp, decoded->data), lower(str));
    // BIP350: no string is valid under both checksums.
    EXPECT_FALSE(bech32_decode(str, other)) << str;
    // Any single changed character after the separator breaks the checksum.
    std::string flipped = lower(str);
    char& last = flipped.back();
    last = last == 'q' ? 'p' : 'q';
    EXPECT_FALSE(bech32_decode(flipped, encoding)) << flipped;
}

TEST(Bech32, Bip173ValidStrings) {
    for (const auto& s : kValidBech32) {
        expect_valid(s, Bech32Encoding::kBech32, Bech32Encoding::kBech32m);
    }
}

TEST(Bech32, Bip350ValidStrings) {
    for (const auto& s : kValidBech32m) {
        expect_valid(s, Bech32Encoding::kBech32m, Bech32Encoding::kBech32);
    }
}

TEST(Bech32, Bip173InvalidStrings) {
    for (const auto& v : kInvalidBech32) {
        EXPECT_FALSE(bech32_decode(v.str, Bech32Encoding::kBech32)) << v.reason;
        EXPECT_FALSE(bech32_decode(v.str, Bech32Encoding::kBech32m)) << v.reason;
    }
}

TEST(Bech32, Bip350InvalidStrings) {
    for (const auto& v : kInvalidBech32m) {
        EXPECT_FALSE(bech32_decode(v.str, Bech32Encoding::kBech32m)) << v.reason;
        EXPECT_FALSE(bech32_decode(v.str, Bech32Encoding::kBech32)) << v.reason;
    }
}

// The reasons we give match the BIPs' reasons for a few representative vectors.
TEST(Bech32, ErrorMessagesNameTheRule) {
    auto message = [](std::string_view s) {
        auto r = bech32_decode(s, Bech32Encoding::kBech32m);
        EXPECT_FALSE(r);
        return r ? std::string() : r.error().message;
    };
    EXPECT_NE(message("\x20"
                      "1xj0phk")
                  .find("out of range"),
              std::string::npos);
    EXPECT_NE(message("qyrz8wqd2c9m").find("no separator"), std::string::npos);
    EXPECT_NE(message("1qyrz8wqd2c9m").find("empty human-readable"), std::string::npos);
    EXPECT_NE(message("y1b0jsk6g").find("invalid data character"), std::string::npos);
    EXPECT_NE(message("in1muywd").find("checksum too short"), std::string::npos);
    EXPECT_NE(message("M1VUXWEZ").find("bad bech32m checksum"), std::string::npos);
    EXPECT_NE(message("A1lqfn3a").find("mixed"), std::string::npos);
    EXPECT_NE(message("a12uel5l").find("a bech32 checksum where bech32m"), std::string::npos);
    EXPECT_NE(message(std::string(91, 'q')).find("longer than 90"), std::string::npos);
}

TEST(Bech32, EmptyAndShortInputsDoNotReadOutOfBounds) {
    EXPECT_FALSE(bech32_decode("", Bech32Encoding::kBech32m));
    EXPECT_FALSE(bech32_decode("1", Bech32Encoding::kBech32m));
    EXPECT_FALSE(bech32_decode("a1", Bech32Encoding::kBech32m));
    EXPECT_FALSE(bech32_decode("a1qqqqq", Bech32Encoding::kBech32m));
    EXPECT_FALSE(bech32_decode(std::string_view("a1\0qqqqqq", 9), Bech32Encoding::kBech32m));
}

TEST(Bech32, GroupConversion) {
    const std::vector<std::uint8_t> bytes = {0xff, 0x00, 0xa5};
    const auto groups = bytes_to_groups(bytes);
    // 24 bits: 4 full groups and one holding 4 bits plus a zero bit of padding.
    EXPECT_EQ(groups, (std::vector<std::uint8_t>{31, 28, 0, 10, 10}));
    auto back = groups_to_bytes(groups);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, bytes);
    EXPECT_TRUE(bytes_to_groups({}).empty());

    // Non-zero padding bit.
    EXPECT_FALSE(groups_to_bytes(std::vector<std::uint8_t>{31, 28, 0, 10, 11}));
    // A whole extra group is 5 bits of padding, over the limit of 4.
    EXPECT_FALSE(groups_to_bytes(std::vector<std::uint8_t>{31, 28, 0, 10, 10, 0}));
    // Not a 5-bit value.
    EXPECT_FALSE(groups_to_bytes(std::vector<std::uint8_t>{32}));

    std::vector<std::uint8_t> key(32);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
    const auto key_groups = bytes_to_groups(key);
    EXPECT_EQ(key_groups.size(), 52u);
    auto key_back = groups_to_bytes(key_groups);
    ASSERT_TRUE(key_back);
    EXPECT_EQ(*key_back, key);
}

}  // namespace
}  // namespace peerchain::crypto
