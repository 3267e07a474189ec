#include "util/metrics.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace peerchain::util::metrics {
namespace {

TEST(Metrics, RendersEachKindInTheTextFormat) {
    Registry r;
    auto& blocks = r.counter("peerchain_blocks_connected_total", "Blocks connected.");
    auto& size = r.gauge("peerchain_mempool_bytes", "Bytes of transactions in the pool.");
    auto& latency = r.histogram("peerchain_block_validation_seconds", "Time to validate a block.",
                                {0.01, 0.1, 1});
    blocks.inc();
    blocks.inc(4);
    size.set(1234.5);
    latency.observe(0.005);
    latency.observe(0.01);  // a bound is inclusive
    latency.observe(0.5);
    latency.observe(7);

    EXPECT_EQ(r.render(),
              "# HELP peerchain_block_validation_seconds Time to validate a block.\n"
              "# TYPE peerchain_block_validation_seconds histogram\n"
              "peerchain_block_validation_seconds_bucket{le=\"0.01\"} 2\n"
              "peerchain_block_validation_seconds_bucket{le=\"0.1\"} 2\n"
              "peerchain_block_validation_seconds_bucket{le=\"1\"} 3\n"
              "peerchain_block_validation_seconds_bucket{le=\"+Inf\"} 4\n"
              "peerchain_block_validation_seconds_sum 7.515\n"
              "peerchain_block_validation_seconds_count 4\n"
              "# HELP peerchain_blocks_connected_total Blocks connected.\n"
              "# TYPE peerchain_blocks_connected_total counter\n"
              "peerchain_blocks_connected_total 5\n"
              "# HELP peerchain_mempool_bytes Bytes of transactions in the pool.\n"
              "# TYPE peerchain_mempool_bytes gauge\n"
              "peerchain_mempool_bytes 1234.5\n");
}

TEST(Metrics, LabelledChildrenAreOrderedAndEscaped) {
    Registry r;
    auto& bytes =
        r.counter_family("peerchain_p2p_bytes_total", "Bytes by direction\\command.\nTwo lines.",
                         {"direction", "command"});
    bytes.labels({"out", "block"}).inc(300);
    bytes.labels({"in", "inv"}).inc(40);
    bytes.labels({"in", "a \"quoted\\odd\"\nvalue"}).inc();
    // The same values give the same child.
    bytes.labels({"out", "block"}).inc(1);
    auto& hist =
        r.histogram_family("peerchain_api_request_seconds", "API latency.", {"route"}, {0.5});
    hist.labels({"/blocks"}).observe(0.25);

    EXPECT_EQ(r.render(),
              "# HELP peerchain_api_request_seconds API latency.\n"
              "# TYPE peerchain_api_request_seconds histogram\n"
              "peerchain_api_request_seconds_bucket{route=\"/blocks\",le=\"0.5\"} 1\n"
              "peerchain_api_request_seconds_bucket{route=\"/blocks\",le=\"+Inf\"} 1\n"
              "peerchain_api_request_seconds_sum{route=\"/blocks\"} 0.25\n"
              "peerchain_api_request_seconds_count{route=\"/blocks\"} 1\n"
              "# HELP peerchain_p2p_bytes_total Bytes by direction\\\\command.\\nTwo lines.\n"
              "# TYPE peerchain_p2p_bytes_total counter\n"
              "peerchain_p2p_bytes_total{direction=\"in\",command=\"a "
              "\\\"quoted\\\\odd\\\"\\nvalue\"} 1\n"
              "peerchain_p2p_bytes_total{direction=\"in\",command=\"inv\"} 40\n"
              "peerchain_p2p_bytes_total{direction=\"out\",command=\"block\"} 301\n");
}

TEST(Metrics, AskingTwiceGivesTheSameMetric) {
    Registry r;
    auto& a = r.counter("x_total", "first help");
    auto& b = r.counter("x_total", "other help");
    EXPECT_EQ(&a, &b);
    auto& f1 = r.gauge_family("peers", "Peers.", {"direction"});
    auto& f2 = r.gauge_family("peers", "Peers.", {"direction"});
    EXPECT_EQ(&f1, &f2);
    EXPECT_EQ(&f1.labels({"inbound"}), &f2.labels({"inbound"}));
}

TEST(Metrics, CallbackGaugesAreReadWhenRendered) {
    Registry r;
    double height = 7;
    r.gauge_callback("peerchain_tip_height", "Height of the active tip.", [&] { return height; });
    r.counter("peerchain_a_total", "Comes first.").inc();
    r.gauge("peerchain_z", "Comes last.").set(-2);
    height = 8;
    EXPECT_EQ(r.render(),
              "# HELP peerchain_a_total Comes first.\n"
              "# TYPE peerchain_a_total counter\n"
              "peerchain_a_total 1\n"
              "# HELP peerchain_tip_height Height of the active tip.\n"
              "# TYPE peerchain_tip_height gauge\n"
              "peerchain_tip_height 8\n"
              "# HELP peerchain_z Comes last.\n"
              "# TYPE peerchain_z gauge\n"
              "peerchain_z -2\n");
}

TEST(Metrics, LabelledCallbackGaugesShowWhatTheyRead) {
    Registry r;
    Registry::LabelledValues peers{{{"outbound", "ws"}, 8}, {{"inbound", "tcp"}, 2}};
    r.gauge_family_callback("peerchain_peers", "Connected peers.", {"direction", "transport"},
                            [&] { return peers; });
    peers.push_back({{"wrong arity"}, 1});  // left out
    EXPECT_EQ(r.render(),
              "# HELP peerchain_peers Connected peers.\n"
              "# TYPE peerchain_peers gauge\n"
              "peerchain_peers{direction=\"inbound\",transport=\"tcp\"} 2\n"
              "peerchain_peers{direction=\"outbound\",transport=\"ws\"} 8\n");
}

TEST(Metrics, AFamilyHoldsBoundedChildren) {
    Registry r;
    auto& family = r.counter_family("requests_total", "Requests.", {"route", "status"});
    for (std::size_t i = 0; i < FamilyBase::kMaxChildren + 500; ++i) {
        family.labels({"/r" + std::to_string(i), "200"}).inc();
    }
    auto& other = family.labels({std::string(FamilyBase::kOther), std::string(FamilyBase::kOther)});
    EXPECT_EQ(other.value(), 500u);
    // Children made before the bound keep their own counts.
    EXPECT_EQ(family.labels({"/r0", "200"}).value(), 1u);
    const std::string text = r.render();
    std::size_t lines = 0;
    for (char c : text) lines += c == '\n';
    EXPECT_EQ(lines, 2 + FamilyBase::kMaxChildren + 1);
}

TEST(Metrics, CountsFromManyThreadsAreExact) {
    Registry r;
    auto& counter = r.counter("events_total", "Events.");
    auto& gauge = r.gauge("level", "Level.");
    auto& hist = r.histogram("sizes", "Sizes.", exponential_bounds(1, 2, 10));
    auto& family = r.counter_family("by_kind_total", "By kind.", {"kind"});
    constexpr int kThreads = 4;
    constexpr int kEach = 50'000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                counter.inc();
                gauge.add(1);
                hist.observe(i % 1024);
                family.labels({t % 2 == 0 ? "even" : "odd"}).inc();
                if (i % 1000 == 0) (void)r.render();
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(counter.value(), std::uint64_t{kThreads} * kEach);
    EXPECT_EQ(gauge.value(), double{kThreads} * kEach);
    const auto s = hist.snapshot();
    EXPECT_EQ(s.count, std::uint64_t{kThreads} * kEach);
    EXPECT_EQ(s.cumulative.back(), s.count);
    // 0 and 1 fall in the first bucket (bound 1), on every 1024th step of each thread.
    EXPECT_EQ(s.cumulative.front(), std::uint64_t{kThreads} * 2 * ((kEach + 1023) / 1024));
    EXPECT_EQ(family.labels({"even"}).value(), std::uint64_t{kThreads / 2} * kEach);
}

TEST(Metrics, FormatsNumbersAsTheTextFormatReadsThem) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(123456789), "123456789");
    EXPECT_EQ(format_value(0.1), "0.1");
    EXPECT_EQ(format_value(2.5e-7), "2.5e-07");
    EXPECT_EQ(format_value(1e20), "1e+20");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(exponential_bounds(0.001, 10, 4), (std::vector<double>{0.001, 0.01, 0.1, 1}));
}

TEST(Metrics, NaNObservationsLandInTheLastBucket) {
    Histogram h({1, 2});
    h.observe(std::numeric_limits<double>::quiet_NaN());
    h.observe(1.5);
    const auto s = h.snapshot();
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{0, 1, 2}));
}

TEST(MetricsDeathTest, NamesThatPrometheusRefusesAreProgrammingErrors) {
    Registry r;
    EXPECT_DEATH(r.counter("blocks", "A counter without _total."), "");
    EXPECT_DEATH(r.gauge("9lives", "Starts with a digit."), "");
    EXPECT_DEATH(r.gauge_family("g", "Reserved label.", {"__name"}), "");
    EXPECT_DEATH(r.histogram_family("h", "le is the bucket's.", {"le"}, {1}), "");
    r.gauge("taken_total", "A gauge.");
    EXPECT_DEATH(r.counter_family("taken_total", "Another kind.", {}), "");
}

}  // namespace
}  // namespace peerchain::util::metrics
