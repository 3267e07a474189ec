#include "net/addrman/ban_man.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>

#include "core/serialize.hpp"
#include "net/addrman/file_format.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::net::addrman {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kDay = 24 * 60 * 60;

TEST(BanMan, ParsesBanAddresses) {
    struct Case {
        const char* in;
        const char* out;
    };
    const Case good[] = {
        {"1.2.3.4", "1.2.3.4"},
        {"1.2.3.4:6001", "1.2.3.4:6001"},
        {"::1", "::1"},
        {"[::1]", "::1"},
        {"[::1]:6001", "[::1]:6001"},
        {"[::FFFF:127.0.0.1]:7", "127.0.0.1:7"},
        {"2A01:4F8::1", "2a01:4f8::1"},
        {"Node.Example:9", "node.example:9"},
    };
    for (const auto& c : good) {
        auto key = parse_ban_address(c.in);
        ASSERT_TRUE(key) << c.in << ": " << key.error().message;
        EXPECT_EQ(*key, c.out);
    }
    for (const char* bad : {"", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x", "[::1",
                            "[::1]6001", "[1.2.3.4]:5", "0.0.0.0", "a b", "1.2.3.4:5:6x"}) {
        EXPECT_FALSE(parse_ban_address(bad)) << bad;
    }
}

TEST(BanMan, DiscouragesUntilExpiry) {
    util::ManualClock clock(kNow);
    BanMan bans({}, clock);
    EXPECT_TRUE(bans.discourage("8.8.8.8"));
    EXPECT_TRUE(bans.discourage("::ffff:192.168.1.9"));
    EXPECT_TRUE(bans.is_discouraged("8.8.8.8"));
    EXPECT_TRUE(bans.is_discouraged("::ffff:8.8.8.8"));
    EXPECT_TRUE(bans.is_discouraged("192.168.1.9"));
    EXPECT_FALSE(bans.is_discouraged("8.8.4.4"));
    EXPECT_FALSE(bans.is_banned("8.8.8.8", 6001));  // discouraged is not banned
    const auto listed = bans.list();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].kind, BanKind::kDiscouraged);
    EXPECT_EQ(listed[0].address, "192.168.1.9");
    EXPECT_EQ(listed[1].created, kNow);
    EXPECT_EQ(listed[1].until, kNow + kDay);

    clock.advance(kDay - 1);
    EXPECT_TRUE(bans.is_discouraged("8.8.8.8"));
    clock.advance(1);
    EXPECT_FALSE(bans.is_discouraged("8.8.8.8"));
    EXPECT_TRUE(bans.list().empty());
    EXPECT_EQ(bans.sweep(), 2u);
}

TEST(BanMan, NeverDiscouragesLoopbackOrNames) {
    util::ManualClock clock(kNow);
    BanMan bans({}, clock);
    for (const char* host : {"127.0.0.1", "127.9.9.9", "::1", "[::1]", "::ffff:127.0.0.1",
                             "localhost", "seed.example", "junk!", ""}) {
        EXPECT_FALSE(bans.discourage(host)) << host;
        EXPECT_FALSE(bans.is_discouraged(host)) << host;
    }
    EXPECT_TRUE(bans.list().empty());
}

TEST(BanMan, DiscouragedIsBoundedByExpiry) {
    util::ManualClock clock(kNow);
    BanManConfig config;
    config.max_discouraged = 5;
    BanMan bans(config, clock);
    for (int i = 1; i <= 10; ++i) {
        EXPECT_TRUE(bans.discourage("8.8.8." + std::to_string(i)));
        clock.advance(1);
    }
    EXPECT_EQ(bans.list().size(), 5u);
    for (int i = 1; i <= 5; ++i) EXPECT_FALSE(bans.is_discouraged("8.8.8." + std::to_string(i)));
    for (int i = 6; i <= 10; ++i) EXPECT_TRUE(bans.is_discouraged("8.8.8." + std::to_string(i)));
    // Discouraged again, 8.8.8.6 expires last now; 8.8.8.7 is the next to go.
    EXPECT_TRUE(bans.discourage("8.8.8.6"));
    EXPECT_TRUE(bans.discourage("8.8.8.11"));
    EXPECT_TRUE(bans.is_discouraged("8.8.8.6"));
    EXPECT_FALSE(bans.is_discouraged("8.8.8.7"));
    EXPECT_EQ(bans.list().size(), 5u);
}

TEST(BanMan, BansHostsAndEndpoints) {
    util::ManualClock clock(kNow);
    BanMan bans({}, clock);
    ASSERT_TRUE(bans.ban("127.0.0.1:6001", 3600));
    ASSERT_TRUE(bans.ban("10.0.0.1", 60));
    ASSERT_TRUE(bans.ban("[::1]:7000", 3600));
    EXPECT_TRUE(bans.is_banned("127.0.0.1", 6001));
    EXPECT_FALSE(bans.is_banned("127.0.0.1", 6002));
    EXPECT_TRUE(bans.is_banned("::ffff:127.0.0.1", 6001));
    EXPECT_TRUE(bans.is_banned("10.0.0.1", 1));
    EXPECT_TRUE(bans.is_banned("::ffff:10.0.0.1", 65535));
    EXPECT_TRUE(bans.is_banned("10.0.0.1", 0));
    EXPECT_FALSE(bans.is_banned("127.0.0.1", 0));
    EXPECT_TRUE(bans.is_banned("[::1]", 7000));
    EXPECT_FALSE(bans.is_banned("::1", 7001));
    EXPECT_FALSE(bans.is_banned("not an ip", 7000));
    EXPECT_FALSE(bans.is_discouraged("10.0.0.1"));

    const auto listed = bans.list();
    ASSERT_EQ(listed.size(), 3u);
    EXPECT_EQ(listed[0].address, "10.0.0.1");
    EXPECT_EQ(listed[0].kind, BanKind::kBanned);
    EXPECT_EQ(listed[0].until, kNow + 60);

    clock.advance(60);
    EXPECT_FALSE(bans.is_banned("10.0.0.1", 1));
    EXPECT_EQ(bans.list().size(), 2u);
    EXPECT_EQ(bans.sweep(), 1u);
    EXPECT_EQ(bans.sweep(), 0u);

    // A second ban replaces the first.
    ASSERT_TRUE(bans.ban("127.0.0.1:6001", 10));
    clock.advance(10);
    EXPECT_FALSE(bans.is_banned("127.0.0.1", 6001));
}

TEST(BanMan, RefusesBadBansAndBoundsTheList) {
    util::ManualClock clock(kNow);
    BanManConfig config;
    config.max_bans = 3;
    BanMan bans(config, clock);
    EXPECT_FALSE(bans.ban("8.8.8.8", 0));
    EXPECT_FALSE(bans.ban("8.8.8.8", -5));
    EXPECT_FALSE(bans.ban("8.8.8.8", config.max_ban_time + 1));
    EXPECT_TRUE(bans.ban("8.8.8.8", config.max_ban_time));
    EXPECT_FALSE(bans.ban("not an address!", 60));
    EXPECT_TRUE(bans.ban("8.8.8.9", 60));
    EXPECT_TRUE(bans.ban("8.8.8.10", 60));
    auto full = bans.ban("8.8.8.11", 60);
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error().code, util::Errc::kInvalidArgument);
    EXPECT_TRUE(bans.ban("8.8.8.10", 120));  // a replacement takes no room
    clock.advance(60);                       // 8.8.8.9 expires
    EXPECT_TRUE(bans.ban("8.8.8.11", 60));
}

TEST(BanMan, Unbans) {
    util::ManualClock clock(kNow);
    BanMan bans({}, clock);
    ASSERT_TRUE(bans.ban("8.8.8.8", 60));
    ASSERT_TRUE(bans.ban("8.8.8.8:5", 60));
    EXPECT_FALSE(bans.unban("8.8.4.4").value());
    EXPECT_TRUE(bans.unban("::ffff:8.8.8.8").value());
    EXPECT_FALSE(bans.is_banned("8.8.8.8", 6));
    EXPECT_TRUE(bans.is_banned("8.8.8.8", 5));
    EXPECT_FALSE(bans.unban("8.8.8.8").value());
    EXPECT_FALSE(bans.unban("bad address!"));
}

TEST(BanMan, PersistsBans) {
    testutil::TempDir dir;
    util::ManualClock clock(kNow);
    BanManConfig config;
    config.path = dir.path() / "banlist.dat";
    {
        BanMan bans(config, clock);
        EXPECT_EQ(bans.load().value(), 0u);  // no file yet
        ASSERT_TRUE(bans.ban("8.8.8.8", 3600));
        ASSERT_TRUE(bans.ban("[::1]:6001", 100));
        ASSERT_TRUE(bans.ban("seed.example", 7200));
        ASSERT_TRUE(bans.ban("9.9.9.9", 50));
        EXPECT_TRUE(bans.unban("9.9.9.9").value());
        EXPECT_TRUE(bans.discourage("1.1.1.1"));  // never written
    }
    struct stat st {};
    ASSERT_EQ(::stat(config.path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    clock.advance(10);
    BanMan again(config, clock);
    EXPECT_EQ(again.load().value(), 3u);
    const auto listed = again.list();
    ASSERT_EQ(listed.size(), 3u);
    EXPECT_EQ(listed[0].address, "8.8.8.8");
    EXPECT_EQ(listed[0].created, kNow);
    EXPECT_EQ(listed[0].until, kNow + 3600);
    EXPECT_EQ(listed[1].address, "[::1]:6001");
    EXPECT_EQ(listed[2].address, "seed.example");
    EXPECT_TRUE(again.is_banned("::1", 6001));
    EXPECT_FALSE(again.is_discouraged("1.1.1.1"));

    clock.advance(100);  // [::1]:6001 has expired: not loaded
    BanMan later(config, clock);
    EXPECT_EQ(later.load().value(), 2u);
}

TEST(BanMan, WithoutAPathNothingIsWritten) {
    util::ManualClock clock(kNow);
    BanMan bans({}, clock);
    EXPECT_TRUE(bans.ban("8.8.8.8", 60));
    EXPECT_EQ(bans.load().value(), 0u);
}

TEST(BanMan, AFailedWriteLeavesTheBanInEffect) {
    testutil::TempDir dir;
    util::ManualClock clock(kNow);
    BanManConfig config;
    config.path = dir.path() / "missing" / "banlist.dat";
    BanMan bans(config, clock);
    auto result = bans.ban("8.8.8.8", 60);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, util::Errc::kIo);
    EXPECT_TRUE(bans.is_banned("8.8.8.8", 1));
}

struct StoredBan {
    std::string key;
    std::int64_t created;
    std::int64_t until;
};

util::Bytes ban_file(const std::vector<StoredBan>& entries, std::uint32_t count) {
    util::Bytes bytes{'P', 'C', 'B', 'N', 1};
    core::Writer w(bytes);
    w.u32(count);
    for (const auto& e : entries) {
        detail::write_str(w, e.key);
        w.i64(e.created);
        w.i64(e.until);
    }
    detail::append_checksum(bytes);
    return bytes;
}

void write(const std::filesystem::path& path, const util::Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

// A ban file byte by byte from the grammar in ban_man.hpp: lists saved by earlier builds
// must keep loading.
TEST(BanMan, FileLayoutIsStable) {
    testutil::TempDir dir;
    util::ManualClock clock(kNow);
    BanManConfig config;
    config.path = dir.path() / "banlist.dat";
    util::Bytes file{'P', 'C', 'B', 'N', 1};
    const auto le = [&](std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) file.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    le(1, 4);  // count
    le(10, 2);
    for (const char c : std::string("[::1]:6001")) file.push_back(static_cast<std::uint8_t>(c));
    le(kNow, 8);
    le(kNow + kDay, 8);
    detail::append_checksum(file);

    BanMan bans(config, clock);
    ASSERT_TRUE(bans.ban("[::1]:6001", kDay));
    std::ifstream in(config.path, std::ios::binary);
    const util::Bytes saved{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(saved, file);

    write(config.path, file);
    BanMan again(config, clock);
    ASSERT_EQ(again.load().value(), 1u);
    EXPECT_TRUE(again.is_banned("::1", 6001));
}

TEST(BanMan, LoadRefusesCorruptFiles) {
    testutil::TempDir dir;
    util::ManualClock clock(kNow);
    BanManConfig config;
    config.path = dir.path() / "banlist.dat";
    BanMan bans(config, clock);
    const std::vector<StoredBan> fine{{"8.8.8.8", kNow, kNow + 60}, {"[::1]:5", kNow, kNow + 60}};
    const util::Bytes good = ban_file(fine, 2);
    write(config.path, good);
    ASSERT_EQ(bans.load().value(), 2u);

    const auto refused = [&](const util::Bytes& bytes) {
        write(config.path, bytes);
        auto result = bans.load();
        EXPECT_EQ(bans.list().size(), 2u);  // unchanged
        return !result && result.error().code == util::Errc::kCorruption;
    };
    for (std::size_t len = 0; len < good.size(); ++len) {
        EXPECT_TRUE(refused(util::Bytes(good.begin(), good.begin() + static_cast<long>(len))))
            << len;
    }
    for (std::size_t i = 0; i < good.size(); ++i) {
        util::Bytes bad = good;
        bad[i] ^= 0x01;
        EXPECT_TRUE(refused(bad)) << i;
    }
    const std::int64_t ten_years = config.max_ban_time;
    EXPECT_TRUE(refused(ban_file({{"01.2.3.4", kNow, kNow + 60}}, 1)));  // not canonical
    EXPECT_TRUE(
        refused(ban_file({{"::1:5", kNow, kNow + 60}}, 1)));  // IPv4-compatible, not ::1 port 5
    EXPECT_TRUE(refused(ban_file({{"8.8.8.8", kNow, kNow}}, 1)));  // empty span
    EXPECT_TRUE(refused(ban_file({{"8.8.8.8", -1, kNow}}, 1)));    // negative
    EXPECT_TRUE(refused(ban_file({{"8.8.8.8", kNow, kNow + ten_years + 1}}, 1)));
    EXPECT_TRUE(refused(ban_file({fine[0], fine[0]}, 2)));  // duplicate
    EXPECT_TRUE(refused(ban_file(fine, 3)));                // count too high
    EXPECT_TRUE(refused(ban_file(fine, 1)));                // trailing bytes
    for (int round = 0; round < 100; ++round) {
        util::Bytes junk = testutil::random_bytes(testutil::rng()() % 200);
        detail::append_checksum(junk);
        EXPECT_TRUE(refused(junk));
    }
    // An expired ban in a sound file is skipped, not an error.
    write(config.path, ban_file({{"8.8.8.8", kNow - 100, kNow - 1}}, 1));
    EXPECT_EQ(bans.load().value(), 0u);
}

}  // namespace
}  // namespace peerchain::net::addrman
