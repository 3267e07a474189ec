// The eviction policy of the HTTP server, without sockets: times are given, not read.
#include "api/server/connection_table.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace peerchain::api::detail {
namespace {

using namespace std::chrono_literals;
using Kind = ConnectionTable::Admission::Kind;

const ConnectionTable::Clock::time_point kT0{};

class ConnectionTableTest : public ::testing::Test {
  protected:
    explicit ConnectionTableTest(ConnectionTable::Limits limits = {4, 2, 2}) : table_(limits) {}

    // Admits a connection from `client` at kT0 + `at`; it must be admitted.
    std::uint64_t open(const std::string& client, std::chrono::seconds at) {
        auto a = table_.admit(client, kT0 + at);
        EXPECT_EQ(a.kind, Kind::kAdmitted);
        EXPECT_FALSE(a.evict);
        return a.id;
    }

    ConnectionTable table_;
};

TEST_F(ConnectionTableTest, AClientAtItsCapEvictsItsOwnLongestWaiting) {
    const auto other = open("10.0.0.9", 0s);  // waits longest of all, but is another client
    const auto a1 = open("127.0.0.1", 1s);
    const auto a2 = open("127.0.0.1", 2s);
    auto a3 = table_.admit("127.0.0.1", kT0 + 3s);
    ASSERT_EQ(a3.kind, Kind::kAdmitted);
    ASSERT_TRUE(a3.evict);
    EXPECT_EQ(*a3.evict, a1);
    EXPECT_FALSE(table_.waiting_done(a1));  // it must close
    EXPECT_TRUE(table_.waiting_done(a2));
    EXPECT_TRUE(table_.waiting_done(other));
    EXPECT_EQ(table_.size(), 4u);  // the evicted one is open until forgotten
    table_.forget(a1);
    EXPECT_EQ(table_.size(), 3u);
}

TEST_F(ConnectionTableTest, AFullTableEvictsTheLongestWaitingOfAll) {
    const auto a = open("10.0.0.1", 0s);
    const auto b = open("10.0.0.2", 1s);
    const auto c = open("10.0.0.3", 2s);
    const auto d = open("10.0.0.4", 3s);
    table_.waiting(a, kT0 + 5s);  // a served a request and is idle again since 5 s
    auto e = table_.admit("10.0.0.5", kT0 + 6s);
    ASSERT_EQ(e.kind, Kind::kAdmitted);
    ASSERT_TRUE(e.evict);
    EXPECT_EQ(*e.evict, b);
    EXPECT_TRUE(table_.waiting_done(c));
    EXPECT_TRUE(table_.waiting_done(d));
}

TEST_F(ConnectionTableTest, BusyConnectionsAreNeverEvicted) {
    const auto a = open("10.0.0.1", 0s);
    const auto b = open("10.0.0.1", 1s);
    ASSERT_TRUE(table_.waiting_done(a));
    ASSERT_TRUE(table_.waiting_done(b));
    // The client is at its cap with nothing to evict: refused, and not counted against it.
    auto refused = table_.admit("10.0.0.1", kT0 + 2s);
    EXPECT_EQ(refused.kind, Kind::kRefused);
    EXPECT_FALSE(refused.evict);
    // Another client still gets in.
    open("10.0.0.2", 3s);
    table_.forget(refused.id);
    // Once a busy one waits again (its answer is written), it may go.
    table_.waiting(a, kT0 + 4s);
    auto c = table_.admit("10.0.0.1", kT0 + 5s);
    ASSERT_TRUE(c.evict);
    EXPECT_EQ(*c.evict, a);
}

TEST_F(ConnectionTableTest, RefusalsAndEvictionsAreBounded) {
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(table_.waiting_done(open("10.0.0." + std::to_string(i), 0s)));
    }
    EXPECT_EQ(table_.admit("10.0.1.1", kT0).kind, Kind::kRefused);
    EXPECT_EQ(table_.admit("10.0.1.2", kT0).kind, Kind::kRefused);
    EXPECT_EQ(table_.admit("10.0.1.3", kT0).kind, Kind::kDropped);  // max_rejecting is 2
    EXPECT_EQ(table_.size(), 6u);
}

TEST(ConnectionTable, EvictionsUnderWayAreBounded) {
    ConnectionTable table({2, 100, 1});
    const auto a = table.admit("10.0.0.1", kT0).id;
    table.admit("10.0.0.2", kT0 + 1s);
    auto c = table.admit("10.0.0.3", kT0 + 2s);
    ASSERT_TRUE(c.evict);
    EXPECT_EQ(*c.evict, a);
    // a has not closed yet: no second eviction may start, so the table cannot grow.
    EXPECT_EQ(table.admit("10.0.0.4", kT0 + 3s).kind, Kind::kRefused);
    table.forget(a);
    EXPECT_TRUE(table.admit("10.0.0.5", kT0 + 4s).evict);
}

TEST(ConnectionTable, ForgettingEveryoneLeavesNothingBehind) {
    ConnectionTable table({3, 1, 2});
    std::vector<std::uint64_t> ids;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 5; ++i) {
            auto a = table.admit("10.0.0.1", kT0 + std::chrono::seconds(round * 10 + i));
            if (a.kind != Kind::kDropped) ids.push_back(a.id);
            if (a.evict) ids.push_back(*a.evict);
        }
    }
    for (auto id : ids) table.forget(id);
    EXPECT_EQ(table.size(), 0u);
    // The per-client count went back to zero: the client has its whole cap again.
    auto fresh = table.admit("10.0.0.1", kT0 + 100s);
    EXPECT_EQ(fresh.kind, Kind::kAdmitted);
    EXPECT_FALSE(fresh.evict);
}

}  // namespace
}  // namespace peerchain::api::detail
