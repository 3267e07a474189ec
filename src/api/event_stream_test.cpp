#include "api/event_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/clock.hpp"

namespace peerchain::api {
namespace {

namespace json = boost::json;

// Collects what a stream hands over; `calls` counts the invocations of `next`.
struct Sink {
    std::vector<std::optional<std::string>> pieces;
    BodyStream::Next next() {
        return [this](std::optional<std::string> piece) { pieces.push_back(std::move(piece)); };
    }
    std::string text() const {
        std::string all;
        for (const auto& p : pieces) all += p.value_or("<end>");
        return all;
    }
};

std::uint64_t publish_block(EventHub& hub, int height) {
    json::object data;
    data["height"] = height;
    return hub.publish(EventType::kBlock, data);
}

std::string block_frame(std::uint64_t seq, int height) {
    return "id: " + std::to_string(seq) + "\nevent: block\ndata: {\"seq\":" + std::to_string(seq) +
           ",\"type\":\"block\",\"height\":" + std::to_string(height) + "}\n\n";
}

class EventStreamTest : public ::testing::Test {
  protected:
    std::shared_ptr<EventHub> make_hub(std::size_t capacity, std::size_t max_streams = 1000) {
        return std::make_shared<EventHub>(clock_,
                                          EventHubOptions{capacity, 64u << 20, max_streams, 15, 1});
    }
    util::ManualClock clock_{1'700'000'000};
};

TEST(EventTypes, NamesRoundTripAndUnknownNamesFail) {
    for (unsigned i = 0; i < static_cast<unsigned>(EventType::kCount); ++i) {
        const auto type = static_cast<EventType>(i);
        EXPECT_EQ(parse_event_type(event_type_name(type)), type);
    }
    EXPECT_FALSE(parse_event_type("reset"));
    auto types = EventFilter::parse_types("block,tx");
    ASSERT_TRUE(types);
    EXPECT_EQ(*types, (1u << static_cast<unsigned>(EventType::kBlock)) |
                          (1u << static_cast<unsigned>(EventType::kTx)));
    EXPECT_FALSE(EventFilter::parse_types("block,blocks"));
    EXPECT_FALSE(EventFilter::parse_types(""));
    EXPECT_FALSE(EventFilter::parse_types("block,"));
}

TEST(EventFilterTest, AddressMatchesOnlyPaymentsToIt) {
    EventFilter filter;
    filter.address = "pcrt1abc";
    StreamEvent tx{1, EventType::kTx, "", {"pcrt1xyz", "pcrt1abc"}};
    StreamEvent other{2, EventType::kTxConfirmed, "", {"pcrt1xyz"}};
    StreamEvent block{3, EventType::kBlock, "", {}};
    EXPECT_TRUE(filter.accepts(tx));
    EXPECT_FALSE(filter.accepts(other));
    EXPECT_FALSE(filter.accepts(block));
    filter.types = 1u << static_cast<unsigned>(EventType::kTxConfirmed);
    EXPECT_FALSE(filter.accepts(tx));
}

TEST_F(EventStreamTest, PublishNumbersAndRendersEachEvent) {
    auto hub = make_hub(10);
    EXPECT_EQ(publish_block(*hub, 7), 1u);
    EXPECT_EQ(publish_block(*hub, 8), 2u);
    const auto read = hub->read_after(0, 10);
    ASSERT_EQ(read.events.size(), 2u);
    EXPECT_FALSE(read.gap);
    EXPECT_EQ(read.events[0]->frame(), block_frame(1, 7));
    EXPECT_EQ(read.events[1]->frame(), block_frame(2, 8));
    EXPECT_EQ(reset_frame("fell-behind", 5, 9),
              "event: reset\ndata: {\"seq\":0,\"type\":\"reset\",\"reason\":\"fell-behind\","
              "\"oldest\":5,\"last\":9}\n\n");
}

TEST_F(EventStreamTest, DecimalsAreWrittenAsDecimals) {
    auto hub = make_hub(10);
    json::object data;
    data["rate"] = 40.0;
    data["progress"] = 0.25;
    data["eta"] = nullptr;
    hub->publish(EventType::kSync, data);
    EXPECT_EQ(hub->read_after(0, 1).events.at(0)->frame(),
              "id: 1\nevent: sync\ndata: {\"seq\":1,\"type\":\"sync\",\"rate\":40.0,"
              "\"progress\":0.25,\"eta\":null}\n\n");
}

TEST_F(EventStreamTest, ReadAfterReportsAGapPastTheRing) {
    auto hub = make_hub(3);
    for (int i = 1; i <= 5; ++i) publish_block(*hub, i);
    auto read = hub->read_after(2, 10);
    EXPECT_FALSE(read.gap);
    ASSERT_EQ(read.events.size(), 3u);
    EXPECT_EQ(read.events[0]->seq(), 3u);
    read = hub->read_after(1, 10);
    EXPECT_TRUE(read.gap);
    EXPECT_EQ(read.oldest, 3u);
    EXPECT_EQ(read.last, 5u);
    EXPECT_EQ(read.events.front()->seq(), 3u);
    EXPECT_TRUE(hub->read_after(5, 10).events.empty());
}

TEST_F(EventStreamTest, BigEventsMakeRoomByBytesButTheNewestStays) {
    auto hub = std::make_shared<EventHub>(clock_, EventHubOptions{100, 4096, 10, 15, 1});
    for (int i = 1; i <= 3; ++i) publish_block(*hub, i);
    EXPECT_EQ(hub->read_after(0, 10).oldest, 1u);
    json::object data;
    data["txid"] = std::string(3000, 'a');
    hub->publish(EventType::kTx, data, {std::string(1000, 'b')});
    auto read = hub->read_after(0, 10);
    EXPECT_TRUE(read.gap);
    EXPECT_EQ(read.oldest, 4u);  // the three small ones went
    ASSERT_EQ(read.events.size(), 1u);
    data["txid"] = std::string(5000, 'c');  // bigger than the bound alone
    hub->publish(EventType::kTx, data);
    read = hub->read_after(0, 10);
    EXPECT_EQ(read.oldest, 5u);
    ASSERT_EQ(read.events.size(), 1u);
    EXPECT_EQ(read.events[0]->seq(), 5u);
}

// Lazy fields that count their renderings.
class CountedFields final : public LazyFields {
  public:
    CountedFields(int height, std::atomic<int>& renders, std::size_t hint = 100)
        : height_(height), renders_(renders), hint_(hint) {}
    void render(std::string& out, const std::vector<std::string>& addresses) const override {
        ++renders_;
        EXPECT_EQ(addresses, this->addresses());
        out += "\"height\":" + std::to_string(height_);
    }
    std::vector<std::string> addresses() const override { return {"pcrt1a", "pcrt1b"}; }
    std::size_t size_hint() const noexcept override { return hint_; }

  private:
    int height_;
    std::atomic<int>& renders_;
    std::size_t hint_;
};

TEST_F(EventStreamTest, LazyEventsAreRenderedOnceAndOnlyWhenRead) {
    auto hub = make_hub(10);
    std::atomic<int> renders{0};
    for (int i = 1; i <= 3; ++i) {
        hub->publish_lazy(EventType::kBlock, std::make_unique<CountedFields>(i, renders));
    }
    EXPECT_EQ(renders, 0);  // nobody has read them
    auto read = hub->read_after(1, 1);
    ASSERT_EQ(read.events.size(), 1u);
    EXPECT_EQ(read.events[0]->seq(), 2u);
    EXPECT_EQ(read.events[0]->frame(), block_frame(2, 2));  // as an eager event's frame
    EXPECT_EQ(renders, 1);
    // A second client, a filter on an address, the frame again: no second rendering.
    Sink a, b;
    auto one = EventStream::open(hub, {}, 0);
    EventFilter paying;
    paying.address = "pcrt1b";
    paying.types = 1u << static_cast<unsigned>(EventType::kBlock);
    EXPECT_FALSE(paying.accepts(*read.events[0]));  // a block pays nobody
    one->pull(a.next());
    EXPECT_EQ(a.text(),
              "retry: 2000\n\n" + block_frame(1, 1) + block_frame(2, 2) + block_frame(3, 3));
    EXPECT_EQ(renders, 3);
    auto two = EventStream::open(hub, {}, 0);
    two->pull(b.next());
    EXPECT_EQ(b.text(), a.text());
    EXPECT_EQ(renders, 3);
}

TEST_F(EventStreamTest, ALazyEventReadByTwoThreadsAtOnceIsRenderedOnce) {
    auto hub = make_hub(10);
    std::atomic<int> renders{0};
    hub->publish_lazy(EventType::kTxConfirmed, std::make_unique<CountedFields>(4, renders));
    const StreamEventPtr event = hub->read_after(0, 1).events.at(0);
    std::string seen[2];
    std::thread other([&] { seen[1] = event->frame(); });
    EXPECT_EQ(event->addresses().size(), 2u);
    seen[0] = event->frame();
    other.join();
    EXPECT_EQ(seen[0], seen[1]);
    EXPECT_NE(seen[0].find("\"height\":4"), std::string::npos);
    EXPECT_EQ(renders, 1);
}

TEST_F(EventStreamTest, LazyEventsMatchTheirAddressesAndCountTowardsTheByteBound) {
    auto hub = std::make_shared<EventHub>(clock_, EventHubOptions{100, 8192, 10, 15, 1});
    std::atomic<int> renders{0};
    hub->publish_lazy(EventType::kTxConfirmed, std::make_unique<CountedFields>(1, renders));
    EventFilter paying;
    paying.address = "pcrt1b";
    EXPECT_TRUE(paying.accepts(*hub->read_after(0, 1).events.at(0)));
    EXPECT_EQ(renders, 1);
    // Unrendered events count at their hint: a big one makes room before anyone reads it.
    hub->publish_lazy(EventType::kTxConfirmed, std::make_unique<CountedFields>(2, renders, 8000));
    auto read = hub->read_after(0, 10);
    EXPECT_EQ(read.oldest, 2u);
    EXPECT_EQ(renders, 1);
}

TEST_F(EventStreamTest, LiveStreamSendsRetryThenWakesOnPublish) {
    auto hub = make_hub(10);
    publish_block(*hub, 1);  // before the client: not sent
    auto stream = EventStream::open(hub, {}, std::nullopt);
    ASSERT_TRUE(stream);
    Sink sink;
    stream->pull(sink.next());
    ASSERT_EQ(sink.pieces.size(), 1u);
    EXPECT_EQ(sink.pieces[0], "retry: 2000\n\n");
    stream->pull(sink.next());
    EXPECT_EQ(sink.pieces.size(), 1u);  // waits
    publish_block(*hub, 2);
    ASSERT_EQ(sink.pieces.size(), 2u);
    EXPECT_EQ(sink.pieces[1], block_frame(2, 2));
}

TEST_F(EventStreamTest, ResumeSendsEverythingAfterTheIdInOrder) {
    auto hub = make_hub(100);
    for (int i = 1; i <= 60; ++i) publish_block(*hub, i);
    auto stream = EventStream::open(hub, {}, 10);
    Sink sink;
    stream->pull(sink.next());
    std::string expected = "retry: 2000\n\n";
    for (int i = 11; i <= 60; ++i) expected += block_frame(static_cast<std::uint64_t>(i), i);
    EXPECT_EQ(sink.text(), expected);
}

TEST_F(EventStreamTest, ResumePastTheRingStartsWithReset) {
    auto hub = make_hub(3);
    for (int i = 1; i <= 10; ++i) publish_block(*hub, i);
    auto stream = EventStream::open(hub, {}, 2);
    Sink sink;
    stream->pull(sink.next());
    EXPECT_EQ(sink.text(), "retry: 2000\n\n" + reset_frame("fell-behind", 8, 10) +
                               block_frame(8, 8) + block_frame(9, 9) + block_frame(10, 10));
}

TEST_F(EventStreamTest, SinceZeroIsEverythingHeldWithoutReset) {
    auto hub = make_hub(3);
    for (int i = 1; i <= 5; ++i) publish_block(*hub, i);
    auto stream = EventStream::open(hub, {}, 0);
    Sink sink;
    stream->pull(sink.next());
    EXPECT_EQ(sink.text(),
              "retry: 2000\n\n" + block_frame(3, 3) + block_frame(4, 4) + block_frame(5, 5));
}

// A burst between the stream's opening and its first read (the HTTP answer's header goes
// out in between) moved the ring on: the client asked for everything held, so it gets
// what is held then, not a cut-off. This raced in the event-stream integration test.
TEST_F(EventStreamTest, SinceZeroStartsAtWhatIsHeldWhenItFirstReads) {
    auto hub = make_hub(3);
    for (int i = 1; i <= 3; ++i) publish_block(*hub, i);
    auto stream = EventStream::open(hub, {}, 0);
    for (int i = 4; i <= 8; ++i) publish_block(*hub, i);
    Sink sink;
    stream->pull(sink.next());
    EXPECT_EQ(sink.text(),
              "retry: 2000\n\n" + block_frame(6, 6) + block_frame(7, 7) + block_frame(8, 8));
    // Later it is a live client like any other: falling past the ring cuts it off.
    for (int i = 9; i <= 14; ++i) publish_block(*hub, i);
    stream->pull(sink.next());
    ASSERT_EQ(sink.pieces.size(), 2u);
    EXPECT_EQ(sink.pieces[1], std::nullopt);
}

TEST_F(EventStreamTest, AnIdFromTheFutureIsAResetNotAGap) {
    auto hub = make_hub(10);
    publish_block(*hub, 1);
    publish_block(*hub, 2);
    auto stream = EventStream::open(hub, {}, 500);  // e.g. from before a restart
    Sink sink;
    stream->pull(sink.next());
    EXPECT_EQ(sink.text(), "retry: 2000\n\n" + reset_frame("unknown-id", 1, 2) + block_frame(1, 1) +
                               block_frame(2, 2));
}

TEST_F(EventStreamTest, NumbersGrowAcrossRestartsAndAnEarlierRunsIdIsAReset) {
    // The first run gave ids up to 3; the restarted node numbers from its start time.
    const std::uint64_t first = first_sequence_at(1'700'000'000'100);
    EXPECT_EQ(first, 1'700'000'000'100'001u);
    // A run that started 100 ms earlier and gave under 100,000 events is below it.
    EXPECT_GT(first, first_sequence_at(1'700'000'000'000) + 100'000 - 1);
    auto hub = std::make_shared<EventHub>(clock_, EventHubOptions{10, 64u << 20, 10, 15, first});
    EXPECT_EQ(hub->last_sequence(), first - 1);
    EXPECT_EQ(publish_block(*hub, 1), first);
    EXPECT_EQ(publish_block(*hub, 2), first + 1);
    // A client of the earlier run, even one whose id is below the held events' numbers by
    // less than the ring, is told that it missed what it cannot get back.
    auto stream = EventStream::open(hub, {}, first_sequence_at(1'700'000'000'000) + 3);
    Sink sink;
    stream->pull(sink.next());
    EXPECT_EQ(sink.text(), "retry: 2000\n\n" + reset_frame("unknown-id", first, first + 1) +
                               block_frame(first, 1) + block_frame(first + 1, 2));
    // A client of this run resumes as usual.
    auto resumed = EventStream::open(hub, {}, first);
    Sink more;
    resumed->pull(more.next());
    EXPECT_EQ(more.text(), "retry: 2000\n\n" + block_frame(first + 1, 2));
}

TEST_F(EventStreamTest, ALiveClientThatFallsPastTheRingIsCutOff) {
    auto hub = make_hub(3);
    auto stream = EventStream::open(hub, {}, std::nullopt);
    Sink sink;
    stream->pull(sink.next());  // retry; the client then stops reading
    for (int i = 1; i <= 5; ++i) publish_block(*hub, i);
    stream->pull(sink.next());
    ASSERT_EQ(sink.pieces.size(), 2u);
    EXPECT_EQ(sink.pieces[1], std::nullopt);
}

TEST_F(EventStreamTest, FiltersSkipEventsButKeepTheCursor) {
    auto hub = make_hub(10);
    EventFilter filter;
    filter.types = 1u << static_cast<unsigned>(EventType::kTx);
    auto stream = EventStream::open(hub, filter, 0);
    Sink sink;
    stream->pull(sink.next());
    stream->pull(sink.next());
    publish_block(*hub, 1);
    EXPECT_EQ(sink.pieces.size(), 1u);  // filtered out: still waiting
    json::object data;
    data["txid"] = "ab";
    hub->publish(EventType::kTx, data, {"pcrt1abc"});
    ASSERT_EQ(sink.pieces.size(), 2u);
    EXPECT_EQ(sink.pieces[1],
              "id: 2\nevent: tx\ndata: {\"seq\":2,\"type\":\"tx\",\"txid\":\"ab\"}\n\n");
}

TEST_F(EventStreamTest, KeepAliveAfterFifteenQuietSeconds) {
    auto hub = make_hub(10);
    auto stream = EventStream::open(hub, {}, std::nullopt);
    Sink sink;
    stream->pull(sink.next());
    stream->pull(sink.next());
    clock_.advance(14);
    hub->tick();
    EXPECT_EQ(sink.pieces.size(), 1u);
    clock_.advance(1);
    hub->tick();
    ASSERT_EQ(sink.pieces.size(), 2u);
    EXPECT_EQ(sink.pieces[1], ": keep-alive\n\n");
    stream->pull(sink.next());  // waits again, quiet from now
    hub->tick();
    EXPECT_EQ(sink.pieces.size(), 2u);
}

TEST_F(EventStreamTest, CancelledStreamIsNotWokenAndCloseEndsStreams) {
    auto hub = make_hub(10);
    auto a = EventStream::open(hub, {}, std::nullopt);
    auto b = EventStream::open(hub, {}, std::nullopt);
    Sink sa, sb;
    a->pull(sa.next());
    a->pull(sa.next());
    b->pull(sb.next());
    b->pull(sb.next());
    a->cancel();
    hub->close();
    EXPECT_EQ(sa.pieces.size(), 1u);
    ASSERT_EQ(sb.pieces.size(), 2u);
    EXPECT_EQ(sb.pieces[1], std::nullopt);
}

TEST_F(EventStreamTest, StreamPlacesAreBoundedAndReturned) {
    auto hub = make_hub(10, 2);
    auto a = EventStream::open(hub, {}, std::nullopt);
    auto b = EventStream::open(hub, {}, std::nullopt);
    EXPECT_TRUE(a && b);
    EXPECT_FALSE(EventStream::open(hub, {}, std::nullopt));
    a.reset();
    EXPECT_EQ(hub->open_streams(), 1u);
    EXPECT_TRUE(EventStream::open(hub, {}, std::nullopt));
}

TEST_F(EventStreamTest, ManyWaitingStreamsAreAllWokenByOnePublish) {
    auto hub = make_hub(10);
    std::vector<std::shared_ptr<EventStream>> streams;
    std::vector<Sink> sinks(150);
    for (auto& sink : sinks) {
        streams.push_back(EventStream::open(hub, {}, std::nullopt));
        streams.back()->pull(sink.next());
        streams.back()->pull(sink.next());
    }
    publish_block(*hub, 1);
    for (const auto& sink : sinks) {
        ASSERT_EQ(sink.pieces.size(), 2u);
        EXPECT_EQ(sink.pieces[1], block_frame(1, 1));
    }
}

}  // namespace
}  // namespace peerchain::api
