#include "core/address.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/bech32.hpp"
#include "crypto/schnorr.hpp"
#include "util/bytes.hpp"

namespace peerchain::core {
namespace {

XOnlyKey key_from_hex(const char* hex) {
    auto b = util::from_hex(hex);
    NODE_ASSERT(b && b->size() == 32);
    XOnlyKey out;
    std::copy(b->begin(), b->end(), out.begin());
    return out;
}

// The public key of BIP340 test vector 1.
const XOnlyKey kKey =
    key_from_hex("dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659");

const Params& dev() { return params(Network::kDev); }
const Params& regtest() { return params(Network::kRegtest); }

std::string error_of(std::string_view address, const Params& p) {
    auto r = decode_address(address, p);
    EXPECT_FALSE(r) << address;
    return r ? std::string() : r.error().message;
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

// Computed independently from the BIP350 reference algorithm; pins the format.
TEST(Address, KnownAnswers) {
    EXPECT_EQ(encode_address(kKey, dev()),
              "pc1mlcawle2vuw97dscxundkg6phev0atsa5t0vakzrys8hk5pt5evsgp490h");
    EXPECT_EQ(encode_address(kKey, regtest()),
              "pcrt1mlcawle2vuw97dscxundkg6phev0atsa5t0vakzrys8hk5pt5evsvjwggg");
}

TEST(Address, RoundTripsOnBothNetworks) {
    for (const Params* p : {&dev(), &regtest()}) {
        for (int i = 0; i < 8; ++i) {
            const XOnlyKey key = crypto::SecretKey::generate().public_key();
            const std::string address = encode_address(key, *p);
            EXPECT_EQ(address.size(), p->address_hrp.size() + 1 + 52 + 6);
            auto back = decode_address(address, *p);
            ASSERT_TRUE(back) << back.error().message;
            EXPECT_EQ(*back, key);
        }
    }
}

TEST(Address, AcceptsAllUpperCase) {
    std::string address = encode_address(kKey, dev());
    std::transform(address.begin(), address.end(), address.begin(),
                   [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
    auto back = decode_address(address, dev());
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, kKey);
}

TEST(Address, RefusesTheOtherNetwork) {
    EXPECT_TRUE(contains(error_of(encode_address(kKey, regtest()), dev()), "regtest network"));
    EXPECT_TRUE(contains(error_of(encode_address(kKey, dev()), regtest()), "dev network"));
}

TEST(Address, RefusesAnUnknownPrefix) {
    const std::string address = crypto::bech32_encode(crypto::Bech32Encoding::kBech32m, "bc",
                                                      crypto::bytes_to_groups(kKey));
    EXPECT_TRUE(contains(error_of(address, dev()), "unknown prefix 'bc'"));
}

TEST(Address, RefusesABech32Checksum) {
    const std::string address =
        crypto::bech32_encode(crypto::Bech32Encoding::kBech32, "pc", crypto::bytes_to_groups(kKey));
    EXPECT_TRUE(contains(error_of(address, dev()), "a bech32 checksum where bech32m"));
}

TEST(Address, RefusesABadChecksum) {
    std::string address = encode_address(kKey, dev());
    address[10] = address[10] == 'q' ? 'p' : 'q';
    EXPECT_TRUE(contains(error_of(address, dev()), "bad bech32m checksum"));
}

TEST(Address, RefusesWrongDataLength) {
    auto groups = crypto::bytes_to_groups(kKey);
    auto shorter = groups;
    shorter.pop_back();
    EXPECT_TRUE(contains(
        error_of(crypto::bech32_encode(crypto::Bech32Encoding::kBech32m, "pc", shorter), dev()),
        "holds 51 groups"));
    auto longer = groups;
    longer.push_back(0);
    EXPECT_TRUE(contains(
        error_of(crypto::bech32_encode(crypto::Bech32Encoding::kBech32m, "pc", longer), dev()),
        "holds 53 groups"));
    EXPECT_TRUE(
        contains(error_of(crypto::bech32_encode(crypto::Bech32Encoding::kBech32m, "pc", {}), dev()),
                 "holds 0 groups"));
}

TEST(Address, RefusesNonZeroPadding) {
    auto groups = crypto::bytes_to_groups(kKey);
    // The last group holds the key's lowest bit and then 4 padding bits.
    groups.back() |= 1;
    EXPECT_TRUE(contains(
        error_of(crypto::bech32_encode(crypto::Bech32Encoding::kBech32m, "pc", groups), dev()),
        "non-zero padding"));
}

TEST(Address, RefusesMixedCase) {
    std::string address = encode_address(kKey, dev());
    auto letter =
        std::find_if(address.rbegin(), address.rend(), [](char c) { return c >= 'a' && c <= 'z'; });
    ASSERT_NE(letter, address.rend());
    *letter = static_cast<char>(*letter - 32);
    EXPECT_TRUE(contains(error_of(address, dev()), "mixed"));
}

TEST(Address, RefusesAKeyOffTheCurve) {
    // BIP340 vector 5: not the x coordinate of a point.
    const XOnlyKey off =
        key_from_hex("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34");
    EXPECT_TRUE(contains(error_of(encode_address(off, dev()), dev()), "not a point"));
}

TEST(Address, RefusesGarbage) {
    EXPECT_FALSE(decode_address("", dev()));
    EXPECT_FALSE(decode_address("pc1", dev()));
    EXPECT_FALSE(decode_address(std::string(200, 'q'), dev()));
}

}  // namespace
}  // namespace peerchain::core
