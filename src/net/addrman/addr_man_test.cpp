#include "net/addrman/addr_man.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <thread>

#include "net/addrman/file_format.hpp"
#include "tests/util/test_util.hpp"

namespace peerchain::net::addrman {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kDay = 24 * 60 * 60;

AddrManConfig test_config(std::uint8_t key_byte = 7) {
    AddrManConfig config;
    config.key.fill(key_byte);
    config.rng_seed = 42;
    return config;
}

NetAddress ip(const std::string& host, std::uint16_t port = 6001) {
    auto a = NetAddress::parse(host, port, kTransportWebSocket);
    EXPECT_TRUE(a) << host;
    return a ? *a : NetAddress{};
}

// Distinct routable IPv4 addresses for n < 89 * 65536: n picks the /24, so 256 in a row
// share a /16 group.
NetAddress routable(std::uint32_t n) {
    return ip(std::to_string(11 + (n >> 16) % 89) + "." + std::to_string((n >> 8) & 0xff) + "." +
              std::to_string(n & 0xff) + ".1");
}

// A routable peer; different n, different /16 source groups (n < 256).
Source peer(std::uint32_t n) {
    const std::string host = "120." + std::to_string(n % 256) + ".0.9";
    return Source{"addr from " + host + ":6001", host, false};
}

const Source kManual{"manual", "", true};

std::vector<AddrMan::Timed> timed(const std::vector<NetAddress>& addresses,
                                  std::int64_t seen = kNow) {
    std::vector<AddrMan::Timed> out;
    for (const auto& a : addresses) out.emplace_back(a, seen);
    return out;
}

TEST(AddrMan, AddsAndMergesKnownAddresses) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    EXPECT_EQ(
        book.add(timed({ip("8.8.8.8"), ip("9.9.9.9"), ip("2a01:4f8::1")}, kNow - 100), peer(1)),
        3u);
    EXPECT_EQ(book.size(), 3u);
    EXPECT_EQ(book.new_count(), 3u);
    EXPECT_EQ(book.tried_count(), 0u);

    NetAddress tcp = ip("8.8.8.8");
    tcp.transports = kTransportTcp;
    EXPECT_EQ(book.add({{tcp, kNow - 10}, {ip("9.9.9.9"), kNow - 500}}, kManual), 0u);
    const auto info = book.find(ip("8.8.8.8"));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->address.transports, kTransportTcp | kTransportWebSocket);
    EXPECT_EQ(info->last_seen, kNow - 10);
    EXPECT_EQ(info->source, "addr from 120.1.0.9:6001");
    EXPECT_EQ(book.find(ip("9.9.9.9"))->last_seen, kNow - 100);  // never goes back

    const auto all = book.list();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].address.host, "8.8.8.8");
    EXPECT_EQ(all[2].address.host, "2a01:4f8::1");  // "[2a01..." sorts after digits
    EXPECT_TRUE(book.remove(ip("8.8.8.8")));
    EXPECT_FALSE(book.remove(ip("8.8.8.8")));
    EXPECT_EQ(book.size(), 2u);
}

TEST(AddrMan, FiltersByTimeValidityAndLocality) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    const auto one = [&](const NetAddress& a, std::int64_t seen, const Source& source) {
        return book.add({{a, seen}}, source);
    };
    EXPECT_EQ(one(routable(1), kNow + 10 * 60 + 1, peer(1)), 0u);  // from the future
    EXPECT_EQ(one(routable(2), kNow + 10 * 60, peer(1)), 1u);
    EXPECT_EQ(one(routable(3), kNow - 30 * kDay - 1, peer(1)), 0u);  // stale
    EXPECT_EQ(one(routable(4), kNow - 30 * kDay, peer(1)), 1u);
    EXPECT_EQ(one(NetAddress{"0.0.0.0", 1, kTransportWebSocket}, kNow, kManual), 0u);
    EXPECT_EQ(one(NetAddress{"8.8.8.8", 0, kTransportWebSocket}, kNow, kManual), 0u);
    EXPECT_EQ(one(NetAddress{"8.8.8.8", 1, 0}, kNow, kManual), 0u);

    const Source loopback_peer{"inbound", "127.0.0.1", false};
    const Source lan_peer{"inbound", "192.168.0.2", false};
    EXPECT_EQ(one(ip("127.0.0.1", 7001), kNow, peer(1)), 0u);
    EXPECT_EQ(one(ip("127.0.0.1", 7001), kNow, lan_peer), 0u);
    EXPECT_EQ(one(ip("127.0.0.1", 7001), kNow, loopback_peer), 1u);
    EXPECT_EQ(one(ip("192.168.5.5"), kNow, peer(1)), 0u);
    EXPECT_EQ(one(ip("10.0.0.5"), kNow, lan_peer), 0u);
    EXPECT_EQ(one(ip("192.168.5.5"), kNow, lan_peer), 1u);
    EXPECT_EQ(one(ip("seed.example"), kNow, loopback_peer), 0u);
    EXPECT_EQ(one(ip("seed.example"), kNow, kManual), 1u);
    EXPECT_EQ(one(ip("127.0.0.1", 7002), kNow, kManual), 1u);
    EXPECT_EQ(book.size(), 6u);
}

TEST(AddrMan, BucketsAreKeyedAndBounded) {
    util::ManualClock clock(kNow);
    AddrMan a(test_config(1), clock);
    AddrMan same(test_config(1), clock);
    AddrMan other(test_config(2), clock);
    std::size_t differ = 0;
    std::set<std::size_t> from_one_source;
    std::set<std::size_t> tried_of_one_group;
    for (std::uint32_t n = 0; n < 2000; ++n) {
        const NetAddress address = routable(n * 97);
        EXPECT_EQ(a.new_bucket(address, peer(3)), same.new_bucket(address, peer(3)));
        EXPECT_EQ(a.tried_bucket(address), same.tried_bucket(address));
        if (a.new_bucket(address, peer(3)) != other.new_bucket(address, peer(3))) ++differ;
        from_one_source.insert(a.new_bucket(address, peer(3)));
        tried_of_one_group.insert(a.tried_bucket(routable(n % 256)));
    }
    EXPECT_GT(differ, 1000u);
    EXPECT_LE(from_one_source.size(), 16u);
    EXPECT_LE(tried_of_one_group.size(), 8u);
    // One group per source /16: another host in it changes nothing.
    const Source neighbour{"x", "120.3.200.1", false};
    EXPECT_EQ(a.new_bucket(routable(5), peer(3)), a.new_bucket(routable(5), neighbour));
}

TEST(AddrMan, OneSourceGroupFillsAtMostItsBuckets) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    // First, honest addresses from 50 other sources.
    std::vector<NetAddress> honest;
    for (std::uint32_t s = 0; s < 50; ++s) {
        std::vector<NetAddress> batch;
        for (std::uint32_t i = 0; i < 10; ++i) batch.push_back(routable(3'000'000 + s * 1000 + i));
        book.add(timed(batch), peer(100 + s));
        for (const auto& a : batch) {
            if (book.find(a)) honest.push_back(a);
        }
    }
    const std::size_t before = book.size();
    EXPECT_GE(before, 450u);

    // Then 100,000 distinct addresses from one source.
    std::size_t added = 0;
    for (std::uint32_t n = 0; n < 100'000; n += 1000) {
        std::vector<NetAddress> batch;
        for (std::uint32_t i = n; i < n + 1000; ++i) batch.push_back(routable(i));
        added += book.add(timed(batch), peer(7));
    }
    EXPECT_LE(added, 16u * 64u);
    EXPECT_EQ(book.size(), before + added);
    for (const auto& a : honest) EXPECT_TRUE(book.find(a)) << a.host;
    std::printf("one source sent 100000, kept %zu; book %zu\n", added, book.size());
}

TEST(AddrMan, OneDestinationGroupIsBoundedPerSourceAndInTried) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    // 10 sources each send 1000 addresses of 50.60/16.
    std::set<std::size_t> buckets;
    for (std::uint32_t s = 0; s < 10; ++s) {
        std::vector<NetAddress> batch;
        for (std::uint32_t i = 0; i < 1000; ++i) {
            batch.push_back(
                ip("50.60." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250)));
        }
        book.add(timed(batch), peer(s));
        buckets.insert(book.new_bucket(batch[0], peer(s)));
    }
    EXPECT_LE(buckets.size(), 10u);
    EXPECT_LE(book.size(), 10u * 64u);
    // All of them connect: one group never holds more than 8 tried buckets.
    for (const auto& info : book.list()) book.good(info.address);
    EXPECT_LE(book.tried_count(), 8u * 64u);
    std::set<std::size_t> tried_buckets;
    for (const auto& info : book.list()) {
        if (info.tried) tried_buckets.insert(book.tried_bucket(info.address));
    }
    EXPECT_LE(tried_buckets.size(), 8u);
}

// A book of one new slot and eight tried ones: every address competes for the same place.
AddrManConfig one_slot_config() {
    AddrManConfig config = test_config();
    config.new_buckets = 1;
    config.tried_buckets = 8;
    config.bucket_size = 1;
    return config;
}

TEST(AddrMan, OnlyTerribleEntriesAreReplaced) {
    util::ManualClock clock(kNow);
    AddrMan book(one_slot_config(), clock);
    ASSERT_EQ(book.add(timed({routable(1)}, kNow - 29 * kDay), kManual), 1u);
    EXPECT_EQ(book.add(timed({routable(2)}), kManual), 0u);  // the live one stays
    EXPECT_TRUE(book.find(routable(1)));
    clock.advance(2 * kDay);  // routable(1) is now past the horizon
    EXPECT_EQ(book.add(timed({routable(2)}, kNow + 2 * kDay), kManual), 1u);
    EXPECT_FALSE(book.find(routable(1)));
    EXPECT_EQ(book.size(), 1u);
}

TEST(AddrMan, FailedAttemptsMakeAnEntryTerrible) {
    util::ManualClock clock(kNow);
    AddrMan book(one_slot_config(), clock);
    const NetAddress fine = routable(100);
    const NetAddress bad = routable(200);
    ASSERT_EQ(book.add(timed({fine}), kManual), 1u);
    ASSERT_TRUE(book.good(fine));  // to tried: the new slot is free again
    ASSERT_EQ(book.add(timed({bad}), kManual), 1u);
    for (int i = 0; i < 3; ++i) {
        // A failure counts once per good() of anything (our own link may be down).
        EXPECT_TRUE(book.attempt(bad, true));
        EXPECT_TRUE(book.attempt(bad, true));
        EXPECT_EQ(book.find(bad)->attempts, static_cast<std::uint32_t>(i + 1));
        clock.advance(61);
        book.good(fine);
    }
    EXPECT_TRUE(book.attempt(bad, false));
    EXPECT_EQ(book.find(bad)->attempts, 3u);
    EXPECT_EQ(book.find(bad)->last_try, clock.now_seconds());
    // Tried within the last minute: kept for now.
    EXPECT_EQ(book.add(timed({routable(300)}, clock.now_seconds()), kManual), 0u);
    clock.advance(61);
    EXPECT_EQ(book.add(timed({routable(300)}, clock.now_seconds()), kManual), 1u);
    EXPECT_FALSE(book.find(bad));
    EXPECT_FALSE(book.attempt(bad, true));
}

TEST(AddrMan, GoodMovesToTriedAndACollisionGoesBackToNew) {
    util::ManualClock clock(kNow);
    AddrManConfig config = test_config();
    config.tried_buckets = 1;
    config.bucket_size = 1;
    AddrMan book(config, clock);
    // Two addresses in different new buckets; there is only one tried slot.
    const NetAddress a = routable(1 << 16);
    NetAddress b;
    for (std::uint32_t n = 2;; ++n) {
        b = routable(n << 16);
        if (book.new_bucket(b, kManual) != book.new_bucket(a, kManual)) break;
    }
    ASSERT_EQ(book.add(timed({a, b}, kNow - 100), kManual), 2u);
    EXPECT_FALSE(book.good(routable(77)));

    clock.advance(10);
    EXPECT_TRUE(book.good(a));
    auto info = book.find(a);
    EXPECT_TRUE(info->tried);
    EXPECT_EQ(info->last_success, kNow + 10);
    EXPECT_EQ(info->last_seen, kNow + 10);
    EXPECT_EQ(info->attempts, 0u);
    EXPECT_EQ(book.tried_count(), 1u);
    EXPECT_EQ(book.new_count(), 1u);

    clock.advance(10);
    EXPECT_TRUE(book.good(b));
    EXPECT_TRUE(book.find(b)->tried);
    info = book.find(a);
    ASSERT_TRUE(info);
    EXPECT_FALSE(info->tried);
    EXPECT_EQ(info->last_success, kNow + 10);
    EXPECT_EQ(book.tried_count(), 1u);
    EXPECT_EQ(book.new_count(), 1u);
    EXPECT_TRUE(book.good(b));  // already tried: stays
    EXPECT_EQ(book.tried_count(), 1u);
}

TEST(AddrMan, ConnectedRefreshesAtMostEveryTwentyMinutes) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    book.add(timed({routable(1)}), kManual);
    clock.advance(20 * 60);
    EXPECT_TRUE(book.connected(routable(1)));
    EXPECT_EQ(book.find(routable(1))->last_seen, kNow);
    clock.advance(1);
    EXPECT_TRUE(book.connected(routable(1)));
    EXPECT_EQ(book.find(routable(1))->last_seen, kNow + 20 * 60 + 1);
    EXPECT_FALSE(book.connected(routable(2)));
}

TEST(AddrMan, SelectHonoursAcceptAndTables) {
    util::ManualClock clock(kNow);
    AddrManConfig config = test_config();
    config.max_select_tries = 5000;
    AddrMan book(config, clock);
    EXPECT_FALSE(book.select(false));
    std::vector<NetAddress> sent;
    for (std::uint32_t i = 0; i < 50; ++i) sent.push_back(routable(i * 1000));
    book.add(timed(sent), peer(1));
    std::vector<NetAddress> all;  // what found a free slot
    for (const auto& info : book.list()) all.push_back(info.address);
    ASSERT_GT(all.size(), 40u);
    EXPECT_TRUE(book.select(false));
    EXPECT_FALSE(book.select(false, [](const NetAddress&) { return false; }));
    const NetAddress wanted = all[17];
    const auto only = book.select(false, [&](const NetAddress& a) { return a == wanted; });
    ASSERT_TRUE(only);
    EXPECT_EQ(only->address, wanted);

    // With both tables filled, both get chosen; new_only never gives a tried one.
    for (std::size_t i = 0; i < all.size() / 2; ++i) book.good(all[i]);
    std::size_t tried = 0;
    for (int i = 0; i < 400; ++i) {
        const auto pick = book.select(false);
        ASSERT_TRUE(pick);
        if (pick->tried) ++tried;
        EXPECT_FALSE(book.select(true)->tried);
    }
    EXPECT_GT(tried, 100u);
    EXPECT_LT(tried, 300u);
    // Only tried entries left (a tried collision may have sent some back to new).
    for (const auto& info : book.list()) {
        if (!info.tried) book.remove(info.address);
    }
    ASSERT_EQ(book.new_count(), 0u);
    ASSERT_GT(book.tried_count(), 0u);
    EXPECT_FALSE(book.select(true));
    EXPECT_TRUE(book.select(false));
}

TEST(AddrMan, SelectAvoidsRecentlyTriedAndFailingAddresses) {
    util::ManualClock clock(kNow);
    AddrMan book(one_slot_config(), clock);
    // Two tried addresses in different tried buckets, one of them just tried and failing.
    const NetAddress fresh = routable(1);
    NetAddress failing;
    for (std::uint32_t n = 2;; ++n) {
        failing = routable(n << 16);
        if (book.tried_bucket(failing) != book.tried_bucket(fresh)) break;
    }
    for (const auto& a : {fresh, failing}) {
        book.add(timed({a}), kManual);
        book.good(a);
    }
    ASSERT_EQ(book.tried_count(), 2u);
    clock.advance(3600);
    book.attempt(failing, true);
    std::size_t picked_failing = 0;
    for (int i = 0; i < 200; ++i) {
        if (book.select(false)->address == failing) ++picked_failing;
    }
    // Chance 0.01 * 0.66 against 1: a handful at most.
    EXPECT_LT(picked_failing, 20u);
}

TEST(AddrMan, SampleHonoursLimitsAndSkipsTerrible) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    for (std::uint32_t s = 0; s < 100; ++s) {
        std::vector<NetAddress> batch;
        for (std::uint32_t i = 0; i < 100; ++i) batch.push_back(routable(s * 100 + i));
        book.add(timed(batch, kNow - 29 * kDay + (s % 2) * kDay), peer(s));
    }
    const std::size_t size = book.size();
    ASSERT_GT(size, 4348u);  // so that 23% is over 1000
    auto sample = book.sample(1000, 23);
    EXPECT_EQ(sample.size(), 1000u);
    std::set<std::string> distinct;
    for (const auto& [a, seen] : sample) distinct.insert(a.host_port());
    EXPECT_EQ(distinct.size(), sample.size());
    EXPECT_EQ(book.sample(100'000, 10).size(), size * 10 / 100);
    EXPECT_EQ(book.sample(5, 23).size(), 5u);

    // A day and a half later, half of them are past the horizon: never sampled.
    clock.advance(kDay + kDay / 2);
    sample = book.sample(100'000, 100);
    EXPECT_GT(sample.size(), 0u);
    EXPECT_LT(sample.size(), size);
    for (const auto& [a, seen] : sample) EXPECT_GE(seen, clock.now_seconds() - 30 * kDay);

    const auto only_one_group = [](const NetAddress& a) { return a.group() == "ip4:11.0"; };
    for (const auto& [a, seen] : book.sample(100'000, 100, only_one_group)) {
        EXPECT_EQ(a.group(), "ip4:11.0");
    }
    AddrMan empty(test_config(), clock);
    EXPECT_TRUE(empty.sample(1000, 23).empty());
}

// A book with every kind of entry and field set.
void fill_varied(AddrMan& book, util::ManualClock& clock) {
    book.add(timed({routable(1), routable(70'000), ip("2a01:4f8::9", 7)}, kNow - 50), peer(1));
    book.add(timed({ip("127.0.0.1", 7001), ip("seed.example", 9)}), kManual);
    book.add(timed({ip("192.168.1.4")}), Source{"inbound", "192.168.1.1", false});
    clock.advance(5);
    book.good(routable(70'000));
    book.good(ip("127.0.0.1", 7001));
    clock.advance(5);
    book.attempt(routable(1), true);
    book.attempt(ip("seed.example", 9), false);
}

TEST(AddrMan, SerializeRoundTripKeepsEveryField) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(1), clock);
    fill_varied(book, clock);
    const util::Bytes bytes = book.serialize();

    AddrMan copy(test_config(2), clock);
    auto loaded = copy.deserialize(bytes);
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    EXPECT_EQ(*loaded, book.size());
    const auto a = book.list();
    const auto b = copy.list();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].address, b[i].address);
        EXPECT_EQ(a[i].source, b[i].source);
        EXPECT_EQ(a[i].last_seen, b[i].last_seen);
        EXPECT_EQ(a[i].last_try, b[i].last_try);
        EXPECT_EQ(a[i].last_success, b[i].last_success);
        EXPECT_EQ(a[i].attempts, b[i].attempts);
        EXPECT_EQ(a[i].tried, b[i].tried);
    }
    EXPECT_EQ(copy.tried_count(), 2u);
    // The key came with the file, and so did every bucket and the hidden fields.
    EXPECT_EQ(copy.new_bucket(routable(5), peer(9)), book.new_bucket(routable(5), peer(9)));
    EXPECT_EQ(copy.serialize(), bytes);
}

TEST(AddrMan, SaveAndLoadAFile) {
    testutil::TempDir dir;
    const auto path = dir.path() / "peers.dat";
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    AddrMan copy(test_config(), clock);
    EXPECT_EQ(copy.load(path).value(), 0u);  // nothing there yet
    fill_varied(book, clock);
    ASSERT_TRUE(book.save(path));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(copy.load(path).value(), book.size());
    EXPECT_EQ(copy.serialize(), book.serialize());

    std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a book";
    EXPECT_FALSE(copy.load(path));
    EXPECT_EQ(copy.size(), book.size());
}

// The file of a one-entry book, byte by byte from the grammar in addr_man.hpp: books saved
// by earlier builds must keep loading.
TEST(AddrMan, FileLayoutIsStable) {
    util::Bytes file{'P', 'C', 'A', 'D', 1};
    const auto le = [&](std::uint64_t v, int n) {
        // Little-endian, n <= 8 bytes.
        for (int i = 0; i < n; ++i) file.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    };
    const auto str = [&](const std::string& s) {
        le(s.size(), 2);
        file.insert(file.end(), s.begin(), s.end());
    };
    file.insert(file.end(), 32, 7);  // key
    le(1, 4);                        // count
    le(0, 1);                        // flags: new
    str("11.0.1.1");
    le(6001, 2);
    le(kTransportWebSocket, 1);
    le(kNow - 5, 8);  // last_seen
    le(0, 8);         // last_try
    le(0, 8);         // last_success
    le(0, 8);         // last_count_attempt
    le(0, 4);         // attempts
    str("manual");
    str("local");
    detail::append_checksum(file);

    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    book.add(timed({routable(1)}, kNow - 5), kManual);
    EXPECT_EQ(book.serialize(), file);

    AddrMan copy(test_config(9), clock);
    ASSERT_EQ(copy.deserialize(file).value(), 1u);
    const auto info = copy.find(routable(1));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->source, "manual");
    EXPECT_EQ(info->last_seen, kNow - 5);
    EXPECT_EQ(copy.new_bucket(routable(1), kManual), book.new_bucket(routable(1), kManual));
}

TEST(AddrMan, RefusesCorruptOrTruncatedFiles) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    fill_varied(book, clock);
    const util::Bytes good = book.serialize();
    AddrMan copy(test_config(), clock);
    for (std::size_t len = 0; len < good.size(); ++len) {
        EXPECT_FALSE(copy.deserialize(util::ByteSpan(good).first(len))) << len;
    }
    for (std::size_t i = 0; i < good.size(); ++i) {
        util::Bytes bad = good;
        bad[i] ^= 0x20;
        EXPECT_FALSE(copy.deserialize(bad)) << i;
    }
    for (int round = 0; round < 200; ++round) {
        util::Bytes junk = testutil::random_bytes(testutil::rng()() % 400);
        detail::append_checksum(junk);
        EXPECT_FALSE(copy.deserialize(junk));
    }
    EXPECT_EQ(copy.size(), 0u);
}

// The body of `book`'s file with `edit` applied, and a fresh trailer: the checksum passes,
// so the field checks are what must refuse it.
util::Bytes edited(const AddrMan& book, const std::function<void(util::Bytes&)>& edit) {
    util::Bytes bytes = book.serialize();
    bytes.resize(bytes.size() - 32);
    edit(bytes);
    detail::append_checksum(bytes);
    return bytes;
}

TEST(AddrMan, RefusesFieldsThatDoNotCheck) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    book.add(timed({routable(1)}), kManual);
    // Offsets: magic 4, version 1, key 32, count 4; then the entry: flags 1, host length 2.
    constexpr std::size_t kEntry = 41;
    constexpr std::size_t kHost = kEntry + 3;  // "11.0.1.1"
    constexpr std::size_t kPort = kHost + 8;
    AddrMan copy(test_config(), clock);
    ASSERT_TRUE(copy.deserialize(edited(book, [](util::Bytes&) {})));
    const std::vector<std::function<void(util::Bytes&)>> edits = {
        [](util::Bytes& b) { b[4] = 2; },                                        // version
        [](util::Bytes& b) { b[37] = 2; },                                       // count
        [](util::Bytes& b) { b[kEntry] = 2; },                                   // flags
        [](util::Bytes& b) { b[kHost] = '0'; },                                  // 01.0.1.1
        [](util::Bytes& b) { b[kHost + 1] = 'X'; },                              // 1X.0.1.1
        [](util::Bytes& b) { b[kPort] = b[kPort + 1] = 0; },                     // port 0
        [](util::Bytes& b) { b[kPort + 2] = 0; },                                // no transport
        [](util::Bytes& b) { b[kPort + 2] = 0x81; },                             // unknown one
        [](util::Bytes& b) { b[kPort + 3 + 7] = 0x80; },                         // negative time
        [](util::Bytes& b) { b.push_back(0); },                                  // trailing
        [](util::Bytes& b) { b.insert(b.end(), b.begin() + kEntry, b.end()); },  // twice
    };
    for (std::size_t i = 0; i < edits.size(); ++i) {
        auto result = copy.deserialize(edited(book, edits[i]));
        EXPECT_FALSE(result) << i;
    }
    // Count bumped to two with the entry duplicated: refused as a duplicate.
    auto dup = copy.deserialize(edited(book, [](util::Bytes& b) {
        b[37] = 2;
        b.insert(b.end(), b.begin() + kEntry, b.end());
    }));
    ASSERT_FALSE(dup);
    EXPECT_NE(dup.error().message.find("duplicate"), std::string::npos);
}

TEST(AddrMan, MemoryIsBoundedWhenFull) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    // 256 source groups of 600 addresses each, twice, with a third of the book connected
    // to in between: far more than the book holds, in both tables.
    const auto flood = [&](std::uint32_t round) {
        for (std::uint32_t s = 0; s < 256; ++s) {
            std::vector<NetAddress> batch;
            for (std::uint32_t i = 0; i < 600; ++i) {
                batch.push_back(routable(round * 256 * 600 + s * 600 + i));
            }
            book.add(timed(batch), peer(s));
        }
    };
    flood(0);
    const auto all = book.list();
    for (std::size_t i = 0; i < all.size(); i += 3) book.good(all[i].address);
    flood(1);
    EXPECT_LE(book.size(), book.capacity());
    EXPECT_GT(book.size(), book.capacity() * 3 / 4);
    const std::size_t bytes = book.memory_usage();
    std::printf("full book: %zu of %zu entries (%zu tried), memory_usage %zu bytes\n", book.size(),
                book.capacity(), book.tried_count(), bytes);
    EXPECT_LT(bytes, 16u << 20);
}

TEST(AddrMan, CallableFromManyThreads) {
    util::ManualClock clock(kNow);
    AddrMan book(test_config(), clock);
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < 4; ++t) {
        threads.emplace_back([&book, t] {
            for (std::uint32_t i = 0; i < 300; ++i) {
                const NetAddress a = routable(t * 100'000 + i * 7);
                book.add(timed({a}), peer(t));
                if (i % 3 == 0) book.good(a);
                book.attempt(a, true);
                (void)book.select(false);
                if (i % 50 == 0) (void)book.sample(100, 23);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_LE(book.size(), book.capacity());
    EXPECT_EQ(book.list().size(), book.size());
}

}  // namespace
}  // namespace peerchain::net::addrman
