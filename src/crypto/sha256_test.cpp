#include "crypto/sha256.hpp"

#include <gtest/gtest.h>

#include <string>

namespace peerchain::crypto {
namespace {

std::string hex(const Digest& d) { return util::to_hex(d); }

// FIPS 180-2 known answers.
TEST(Sha256, KnownAnswers) {
    EXPECT_EQ(hex(sha256(util::as_bytes(""))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256(util::as_bytes("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(sha256(util::as_bytes(
                  "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const std::string million(1'000'000, 'a');
    EXPECT_EQ(hex(sha256(util::as_bytes(million))),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingMatchesOneShotAtEverySplit) {
    std::string text;
    for (int i = 0; i < 200; ++i) text.push_back(static_cast<char>('a' + i % 26));
    const Digest whole = sha256(util::as_bytes(text));
    for (std::size_t split = 0; split <= text.size(); ++split) {
        Sha256 h;
        h.write(util::as_bytes(std::string_view(text).substr(0, split)));
        h.write(util::as_bytes(std::string_view(text).substr(split)));
        ASSERT_EQ(h.finalize(), whole) << "split " << split;
    }
}

TEST(Sha256, DoubleHash) {
    // SHA256d("hello") as used for Bitcoin-style ids.
    EXPECT_EQ(hex(sha256d(util::as_bytes("hello"))),
              "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50");
}

TEST(Sha256, TaggedHashIsPrefixedWithTagDigestTwice) {
    const Digest tag = sha256(util::as_bytes("Example"));
    util::Bytes pre(tag.begin(), tag.end());
    pre.insert(pre.end(), tag.begin(), tag.end());
    pre.push_back('x');
    EXPECT_EQ(tagged_hash("Example", util::as_bytes("x")), sha256(pre));
}

}  // namespace
}  // namespace peerchain::crypto
