// The event stream's format as `peerchain events` reads it: frames split anywhere, line
// ends of each kind, comments, retry, and the lines it prints.
#include "app/events_cli.hpp"

#include <gtest/gtest.h>

namespace peerchain::app {
namespace {

TEST(EventsCli, ParsesFramesSplitAnywhere) {
    const std::string stream =
        "retry: 2000\n\n: keep-alive\n\n"
        "id: 7\nevent: block\ndata: {\"seq\":7,\"type\":\"block\",\"height\":3}\n\n"
        "id: 8\r\nevent: tx\r\ndata: a\r\ndata: b\r\n\r\n"
        "event: reset\rdata: {}\r\r";
    // Every split point, so that a frame cut by TCP anywhere (even in a CRLF) parses alike.
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        SseParser p;
        auto events = p.feed(std::string_view(stream).substr(0, cut));
        auto rest = p.feed(std::string_view(stream).substr(cut));
        events.insert(events.end(), rest.begin(), rest.end());
        ASSERT_EQ(events.size(), 3u) << cut;
        EXPECT_EQ(events[0].id, "7");
        EXPECT_EQ(events[0].event, "block");
        EXPECT_EQ(events[0].data, R"({"seq":7,"type":"block","height":3})");
        EXPECT_EQ(events[1].id, "8");
        EXPECT_EQ(events[1].data, "a\nb");
        EXPECT_EQ(events[2].event, "reset");
        EXPECT_EQ(events[2].id, "");
        EXPECT_EQ(p.retry_ms(), 2000u);
        EXPECT_FALSE(p.failed());
    }
}

TEST(EventsCli, AnEventWithoutDataIsNotDispatched) {
    SseParser p;
    EXPECT_TRUE(p.feed("id: 1\nevent: block\n\n").empty());
    const auto events = p.feed("data: x\n\n");
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].event, "message");
    EXPECT_EQ(events[0].id, "");
}

TEST(EventsCli, AnOverLongLineFailsInsteadOfGrowing) {
    SseParser p(16);
    EXPECT_TRUE(p.feed("data: 0123456789abcdef").empty());
    EXPECT_TRUE(p.failed());
}

TEST(EventsCli, ReadableLines) {
    EXPECT_EQ(format_event({"7", "block",
                            R"({"seq":7,"type":"block","height":3,"hash":"ab","previousHash":"aa",)"
                            R"("txCount":1})"}),
              "#7 block        height=3 hash=ab txCount=1");
    EXPECT_EQ(format_event({"8", "tx",
                            R"({"seq":8,"type":"tx","txid":"cd","size":190,"fee":382,)"
                            R"("outputTotal":100000000,"addresses":["pcrt1a"]})"}),
              "#8 tx           txid=cd fee=0.00000382 outputTotal=1.00000000 "
              "addresses=[\"pcrt1a\"]");
    EXPECT_EQ(format_event({"9", "news", R"({"seq":9,"type":"news","note":"a b","n":1})"}),
              "#9 news         note=\"a b\" n=1");
    EXPECT_EQ(format_event({"", "reset", R"({"seq":0,"type":"reset","reason":"gap"})"}),
              "reset        reason=gap");
    EXPECT_EQ(format_event({"", "message", "not json"}), "message  not json");
}

TEST(EventsCli, TargetCarriesTheFilters) {
    EventsOptions o;
    EXPECT_EQ(events_target(o), "/events");
    o.types = "block,tx";
    o.address = "pcrt1 x&y";
    o.since = 5;
    EXPECT_EQ(events_target(o), "/events?types=block,tx&address=pcrt1%20x%26y&since=5");
}

}  // namespace
}  // namespace peerchain::app
