#include "crypto/schnorr.hpp"

#include <gtest/gtest.h>

namespace peerchain::crypto {
namespace {

std::array<std::uint8_t, 32> hex32(const char* hex) {
    auto b = util::from_hex(hex);
    NODE_ASSERT(b && b->size() == 32);
    std::array<std::uint8_t, 32> out;
    std::copy(b->begin(), b->end(), out.begin());
    return out;
}

// BIP340 test vector 0.
TEST(Schnorr, Bip340VectorZero) {
    auto key = SecretKey::from_bytes(
        hex32("0000000000000000000000000000000000000000000000000000000000000003"));
    ASSERT_TRUE(key);
    EXPECT_EQ(util::to_hex(key->public_key()),
              "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
    const Digest msg{};
    const auto sig = key->sign(msg, std::array<std::uint8_t, 32>{});
    EXPECT_EQ(util::to_hex(sig),
              "e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca8215"
              "25f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0");
    EXPECT_TRUE(schnorr_verify(key->public_key(), msg, sig));
}

TEST(Schnorr, SignVerifyAndRejectTampering) {
    const SecretKey key = SecretKey::generate();
    const Digest msg = sha256(util::as_bytes("message"));
    auto sig = key.sign(msg);
    EXPECT_TRUE(schnorr_verify(key.public_key(), msg, sig));
    sig[0] ^= 1;
    EXPECT_FALSE(schnorr_verify(key.public_key(), msg, sig));
    EXPECT_FALSE(schnorr_verify(SecretKey::generate().public_key(), msg, key.sign(msg)));
}

TEST(Schnorr, RejectsInvalidKeys) {
    EXPECT_FALSE(SecretKey::from_bytes({}));  // zero
    std::array<std::uint8_t, 32> order_plus =
        hex32("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142");
    EXPECT_FALSE(SecretKey::from_bytes(order_plus));
    // x = 5 is not on the curve (BIP340 vector 5): verification fails, no crash.
    const auto not_on_curve =
        hex32("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34");
    EXPECT_FALSE(schnorr_verify(not_on_curve, Digest{}, SchnorrSignature{}));
}

}  // namespace
}  // namespace peerchain::crypto
