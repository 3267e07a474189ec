#include "crypto/sha256.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/util/test_util.hpp"

namespace peerchain::crypto {
namespace {

std::string hex(const Digest& d) { return util::to_hex(d); }

Digest sha256_with(Sha256Impl impl, util::ByteSpan data) {
    return Sha256(impl).write(data).finalize();
}

// FIPS 180-2 known answers.
TEST(Sha256, KnownAnswers) {
    EXPECT_EQ(hex(sha256(util::as_bytes(""))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256(util::as_bytes("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(
        hex(sha256(util::as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
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

TEST(Sha256, ActiveImplementationFollowsCpuAndEnvironment) {
    const char* forced = std::getenv("PEERCHAIN_SHA256");
    if (forced != nullptr && std::strcmp(forced, "portable") == 0) {
        EXPECT_EQ(sha256_active(), Sha256Impl::kPortable);
    } else {
        EXPECT_EQ(sha256_active(), sha256_supported(Sha256Impl::kShaNi) ? Sha256Impl::kShaNi
                                                                        : Sha256Impl::kPortable);
    }
    EXPECT_STREQ(sha256_implementation(), sha256_impl_name(sha256_active()));
    EXPECT_TRUE(sha256_supported(Sha256Impl::kPortable));
    EXPECT_NE(detail::sha256_transform_for(Sha256Impl::kPortable), nullptr);
    EXPECT_EQ(detail::sha256_transform_for(Sha256Impl::kShaNi) != nullptr,
              sha256_supported(Sha256Impl::kShaNi));
}

// Every test below runs once per transform; a transform this CPU lacks is skipped.
class Sha256ImplTest : public ::testing::TestWithParam<Sha256Impl> {
  protected:
    void SetUp() override {
        if (!sha256_supported(GetParam())) {
            GTEST_SKIP() << sha256_impl_name(GetParam()) << " is not supported on this CPU";
        }
    }
};

TEST_P(Sha256ImplTest, KnownAnswers) {
    const Sha256Impl impl = GetParam();
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes(""))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklm"
                                                   "nlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes("abcdefghbcdefghicdefghijdefghijkefghijklfghij"
                                                   "klmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
                                                   "nopqrsmnopqrstnopqrstu"))),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    const std::string million(1'000'000, 'a');
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes(million))),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // One 64-byte block exactly, and the 55/56-byte edges where the length spills over.
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes(std::string(64, 'a')))),
              "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes(std::string(55, 'a')))),
              "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    EXPECT_EQ(hex(sha256_with(impl, util::as_bytes(std::string(56, 'a')))),
              "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

TEST_P(Sha256ImplTest, TransformMatchesPortableOnRandomBlocks) {
    const detail::Sha256Transform transform = detail::sha256_transform_for(GetParam());
    ASSERT_NE(transform, nullptr);
    for (int round = 0; round < 300; ++round) {
        const std::size_t blocks = 1 + testutil::rng()() % 17;
        const util::Bytes data = testutil::random_bytes(64 * blocks);
        std::uint32_t expected[8];
        for (auto& w : expected) w = static_cast<std::uint32_t>(testutil::rng()());
        std::uint32_t actual[8];
        std::memcpy(actual, expected, sizeof(actual));
        detail::sha256_transform_portable(expected, data.data(), blocks);
        transform(actual, data.data(), blocks);
        ASSERT_EQ(0, std::memcmp(expected, actual, sizeof(actual)))
            << "round " << round << ", " << blocks << " blocks";
    }
}

TEST_P(Sha256ImplTest, MatchesPortableOnRandomMessagesOfManyLengths) {
    for (std::size_t length = 0; length <= 1100; length += (length < 300 ? 1 : 37)) {
        const util::Bytes data = testutil::random_bytes(length);
        ASSERT_EQ(sha256_with(GetParam(), data), sha256_with(Sha256Impl::kPortable, data))
            << "length " << length;
    }
}

TEST_P(Sha256ImplTest, StreamingInRandomPiecesMatchesOneShot) {
    const util::Bytes data = testutil::random_bytes(5000);
    const Digest whole = sha256_with(Sha256Impl::kPortable, data);
    for (int round = 0; round < 50; ++round) {
        Sha256 h(GetParam());
        std::size_t at = 0;
        while (at < data.size()) {
            const std::size_t piece =
                std::min<std::size_t>(testutil::rng()() % 300, data.size() - at);
            h.write(util::ByteSpan(data).subspan(at, piece));
            at += piece;
        }
        ASSERT_EQ(h.finalize(), whole) << "round " << round;
    }
}

INSTANTIATE_TEST_SUITE_P(Transforms, Sha256ImplTest,
                         ::testing::Values(Sha256Impl::kPortable, Sha256Impl::kShaNi),
                         [](const ::testing::TestParamInfo<Sha256Impl>& p) {
                             return std::string(p.param == Sha256Impl::kShaNi ? "ShaNi"
                                                                              : "Portable");
                         });

}  // namespace
}  // namespace peerchain::crypto
