// The node's event stream (GET /events, docs/API.md "Event stream"): the ring of stream
// events that clients follow as server-sent events, and the BodyStream that writes one
// client's view of it.
//
// EventHub holds the last `capacity` events (and at most max_bytes of them), each numbered (1, 2,
// 3, ... over all types) and rendered as its SSE frame once, at publish or (LazyFields) when a
// client first reads it, so that a hundred clients cost one rendering per event and events
// nobody reads cost none. One producer publishes (node/event_feed.hpp, on its own thread; never the
// chain executor). A client that is waiting for the next event registers a one-shot wake-up;
// publish() calls the wake-ups after releasing its lock, so that there is no thread and
// no polling per client. tick() (the node's 1 s tick) wakes clients that have been quiet
// for keep_alive_seconds so that they send a keep-alive comment.
//
// EventStream is one client's body: `retry: 2000`, then a `reset` when the client asked
// to resume from an event the ring no longer holds (never a silent gap), then every held
// event after its cursor that its filter accepts, then live events. A live client that
// falls more than the ring behind (it reads too slowly) is cut off: its body ends, and a
// reconnect with its last id gets the `reset`. A client that does not read at all never
// pulls, costs nothing here, and is closed by the server's write timeout.
//
// Ownership: node/ owns the hub through a shared_ptr; each stream holds one too, so that
// a stream the server still holds after the node dropped its hub stays valid.
// Thread-safety: EventHub is safe from any thread. EventStream follows BodyStream.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/response.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::api {

enum class EventType : std::uint8_t {
    kBlock,
    kReorg,
    kBlockDisconnected,
    kTx,
    kTxConfirmed,
    kPeer,
    kSync,
    kCount
};

// "block", "reorg", "block-disconnected", "tx", "tx-confirmed", "peer", "sync".
std::string_view event_type_name(EventType type) noexcept;
// The type named `name`; nullopt for any other text ("reset" included: it is not a type a
// client can ask for, it always comes).
std::optional<EventType> parse_event_type(std::string_view name) noexcept;

// The fields of an event that are written only when a client first reads it. A node
// publishes thousands of block and tx-confirmed events a second while it syncs, and with
// no client following most of them leave the ring unread: holding a few hashes and numbers
// costs a fraction of writing their hex and bech32 text. Implementations must be
// immutable once published (render() runs on whichever thread reads first).
class LazyFields {
  public:
    virtual ~LazyFields() = default;
    // The addresses the event pays, each once (tx and tx-confirmed; what ?address= matches).
    // Asked once, before render().
    virtual std::vector<std::string> addresses() const { return {}; }
    // Appends the event's members: JSON text without braces, as publish_fields takes it.
    // `addresses` is what addresses() returned.
    virtual void render(std::string& out, const std::vector<std::string>& addresses) const = 0;
    // About the bytes the rendered fields and addresses will take, for the ring's bound.
    virtual std::size_t size_hint() const noexcept = 0;
};

// One published event. frame() is the whole SSE text:
//   id: <seq>\nevent: <type>\ndata: {"seq":<seq>,"type":"<type>",<fields>}\n\n
// written at publish, or at the first frame() or addresses() call for an event published
// with LazyFields (once, whichever thread asks first).
class StreamEvent {
  public:
    StreamEvent(std::uint64_t seq, EventType type, std::string frame,
                std::vector<std::string> addresses = {});
    StreamEvent(std::uint64_t seq, EventType type, std::unique_ptr<const LazyFields> fields);

    std::uint64_t seq() const noexcept { return seq_; }
    EventType type() const noexcept { return type_; }
    const std::string& frame() const;
    // The addresses a tx or tx-confirmed event pays (what ?address= matches).
    const std::vector<std::string>& addresses() const;
    // What the event holds in memory, roughly, rendered or not (the ring's byte bound).
    std::size_t memory_bytes() const noexcept { return bytes_; }

  private:
    void render() const;

    const std::uint64_t seq_;
    const EventType type_;
    const std::size_t bytes_;
    mutable std::once_flag rendered_;
    mutable std::unique_ptr<const LazyFields> lazy_;  // null once rendered
    mutable std::string frame_;
    mutable std::vector<std::string> addresses_;
};
using StreamEventPtr = std::shared_ptr<const StreamEvent>;

// What one client asked for: ?types= and ?address=.
struct EventFilter {
    std::uint32_t types = (1u << static_cast<unsigned>(EventType::kCount)) - 1;
    // Empty: any. Otherwise only tx and tx-confirmed events that pay this address.
    std::string address;

    bool accepts(const StreamEvent& event) const noexcept;
    // Parses a ?types= value: comma-separated names. Fails (kInvalidArgument, naming the
    // word) on an unknown or empty name, or more than 64 names.
    static util::Result<std::uint32_t> parse_types(std::string_view text);
};

// The frame of a `reset`: `event: reset` and its data, without an id line (the client's
// last id stays what it was).
std::string reset_frame(std::string_view reason, std::uint64_t oldest, std::uint64_t last);

struct EventHubOptions {
    std::size_t capacity = 10'000;  // events held; at least 1
    // And at most this many bytes of them (the newest is always kept): a ring of events
    // that each pay thousands of addresses stays bounded.
    std::size_t max_bytes = 64u << 20;
    std::size_t max_streams = 1000;
    std::int64_t keep_alive_seconds = 15;
    // The number of the first event. A node starts it from its start time
    // (first_sequence_at()), so that numbers keep growing across restarts and a client
    // resuming with an id of an earlier run gets a reset rather than a silent gap.
    std::uint64_t first_sequence = 1;
};

// The first sequence number for a hub started at `unix_ms` (milliseconds since the epoch):
// unix_ms * 1000 + 1. A later run starts above every number an earlier run gave unless that
// run averaged over a million events a second, and the numbers stay exact in JavaScript
// (below 2^53) until the year 2255.
std::uint64_t first_sequence_at(std::int64_t unix_ms) noexcept;

class EventHub {
  public:
    // `clock` must outlive the hub (keep-alive timing).
    explicit EventHub(const util::Clock& clock, EventHubOptions options = {});
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    // Numbers and renders an event and stores it (the oldest goes when full), then wakes
    // every waiting stream. `data` holds the event's own fields; seq and type come first.
    // Returns the event's number. After close(), stores nothing and returns 0.
    std::uint64_t publish(EventType type, const boost::json::object& data,
                          std::vector<std::string> addresses = {});
    // The same, with the fields already rendered: `fields` is the JSON text of the event's
    // members, comma-separated, without braces ("" for none), as to_json_text writes them.
    // For a publisher of many events (a block a millisecond during a sync) that can write
    // its few numbers and hex strings without building a JSON object.
    std::uint64_t publish_fields(EventType type, std::string_view fields,
                                 std::vector<std::string> addresses = {});
    // The same, with fields written only when a client first reads the event.
    std::uint64_t publish_lazy(EventType type, std::unique_ptr<const LazyFields> fields);

    struct Read {
        std::vector<StreamEventPtr> events;  // oldest first
        // Some events after `after` are no longer held: `events` starts at the oldest held.
        bool gap = false;
        std::uint64_t oldest = 0;  // the oldest held event's number (last + 1 when none)
        std::uint64_t last = 0;    // the newest event's number (0 before the first)
    };
    // Up to `max` held events numbered after `after`.
    Read read_after(std::uint64_t after, std::size_t max) const;

    // Called once: keep_alive false when an event after the cursor was published or the
    // hub closed, true when the stream has been quiet for keep_alive_seconds.
    using Wake = std::function<void(bool keep_alive)>;
    // Registers `wake` for a stream whose cursor is `after` and that last wrote at
    // `quiet_since` (clock seconds). Returns a ticket for cancel_wait, or 0 without
    // registering when an event after `after` is already held or the hub is closed (read
    // again instead).
    std::uint64_t wait(std::uint64_t after, std::int64_t quiet_since, Wake wake);
    // Forgets a registered wake-up; a ticket already woken or unknown is ignored.
    void cancel_wait(std::uint64_t ticket);
    // Wakes, with keep_alive, the streams quiet for keep_alive_seconds. About once a second.
    void tick();
    // No more events: wakes every stream so that their bodies end.
    void close();
    bool closed() const;

    // A place for one more stream, false when max_streams are open; release with
    // release_stream().
    bool acquire_stream();
    void release_stream();
    std::size_t open_streams() const;

    std::uint64_t last_sequence() const;
    std::uint64_t first_sequence() const noexcept { return options_.first_sequence; }
    std::size_t capacity() const noexcept { return options_.capacity; }
    std::int64_t now() const { return clock_.now_seconds(); }

  private:
    // Numbers the event `make(seq)` builds, stores it and wakes the waiting streams.
    template <typename Make>
    std::uint64_t store(Make&& make);

    struct Waiter {
        std::int64_t quiet_since = 0;
        Wake wake;
    };
    const util::Clock& clock_;
    const EventHubOptions options_;
    util::Mutex publish_mutex_;  // taken before mutex_, by publish() only
    mutable util::Mutex mutex_;
    std::vector<StreamEventPtr> ring_ GUARDED_BY(mutex_);  // circular, capacity slots
    std::uint64_t last_ GUARDED_BY(mutex_);    // first_sequence - 1 before the first event
    std::uint64_t oldest_ GUARDED_BY(mutex_);  // last_ + 1 while none is held
    std::size_t bytes_ GUARDED_BY(mutex_) = 0;
    bool closed_ GUARDED_BY(mutex_) = false;
    std::unordered_map<std::uint64_t, Waiter> waiters_ GUARDED_BY(mutex_);
    std::uint64_t next_ticket_ GUARDED_BY(mutex_) = 1;
    std::size_t streams_ GUARDED_BY(mutex_) = 0;
};

// One client's body. Construct through open(), which takes a stream place from the hub.
class EventStream final : public BodyStream, public std::enable_shared_from_this<EventStream> {
  public:
    // The most bytes one pull() hands over (many events at once for a client catching up).
    static constexpr std::size_t kMaxPiece = 64 * 1024;

    // `since`: the last event the client has seen (Last-Event-ID or ?since=); nullopt for
    // live events from now on; 0 for everything held (no reset). Returns nullptr when the
    // hub has no place for another stream.
    static std::shared_ptr<EventStream> open(std::shared_ptr<EventHub> hub, EventFilter filter,
                                             std::optional<std::uint64_t> since);
    ~EventStream() override;

    void pull(Next next) override;
    void cancel() noexcept override;

    struct Token {};  // open() only
    EventStream(Token, std::shared_ptr<EventHub> hub, EventFilter filter,
                std::optional<std::uint64_t> since);

  private:
    // Adds what is there to `piece` and hands it on, or waits for the next event.
    void produce(Next next, std::string piece);
    void woken(bool keep_alive);

    const std::shared_ptr<EventHub> hub_;
    const EventFilter filter_;
    // Only the one produce() in progress touches these (pull and wake-ups never overlap).
    std::uint64_t after_ = 0;
    bool started_ = false;
    bool resuming_ = false;  // the first read may report a gap as a reset
    // ?since=0, "everything held": the first read starts at the oldest held then, however
    // far the ring moved since the stream opened.
    bool from_oldest_ = false;
    bool ended_ = false;
    std::int64_t quiet_since_ = 0;

    util::Mutex mutex_;
    Next waiting_ GUARDED_BY(mutex_);
    std::uint64_t ticket_ GUARDED_BY(mutex_) = 0;
    bool cancelled_ GUARDED_BY(mutex_) = false;
};

}  // namespace peerchain::api
