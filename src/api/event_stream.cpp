#include "api/event_stream.hpp"

#include <boost/json/serialize.hpp>
#include <utility>

#include "api/json_text.hpp"
#include "util/assert.hpp"

namespace peerchain::api {

namespace {

constexpr std::string_view kNames[] = {"block", "reorg", "block-disconnected", "tx", "tx-confirmed",
                                       "peer",  "sync"};
static_assert(std::size(kNames) == static_cast<std::size_t>(EventType::kCount));

constexpr std::string_view kRetry = "retry: 2000\n\n";
constexpr std::string_view kKeepAlive = ": keep-alive\n\n";
constexpr std::size_t kMaxReadBatch = 512;

// The header of an event's frame, up to where its own fields go.
void frame_head(std::string& frame, std::uint64_t seq, EventType type, std::size_t fields) {
    const std::string number = std::to_string(seq);
    const std::string_view name = event_type_name(type);
    frame.reserve(48 + 2 * number.size() + 2 * name.size() + fields);
    frame += "id: ";
    frame += number;
    frame += "\nevent: ";
    frame += name;
    frame += "\ndata: {\"seq\":";
    frame += number;
    frame += ",\"type\":\"";
    frame += name;
    frame += '"';
}

std::size_t eager_bytes(const std::string& frame, const std::vector<std::string>& addresses) {
    std::size_t n = sizeof(StreamEvent) + 64 + frame.capacity();
    for (const auto& a : addresses) n += sizeof(std::string) + a.capacity();
    return n;
}

}  // namespace

std::string_view event_type_name(EventType type) noexcept {
    const auto i = static_cast<std::size_t>(type);
    return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::optional<EventType> parse_event_type(std::string_view name) noexcept {
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
        if (kNames[i] == name) return static_cast<EventType>(i);
    }
    return std::nullopt;
}

StreamEvent::StreamEvent(std::uint64_t seq, EventType type, std::string frame,
                         std::vector<std::string> addresses)
    : seq_(seq),
      type_(type),
      bytes_(eager_bytes(frame, addresses)),
      frame_(std::move(frame)),
      addresses_(std::move(addresses)) {}

StreamEvent::StreamEvent(std::uint64_t seq, EventType type,
                         std::unique_ptr<const LazyFields> fields)
    : seq_(seq),
      type_(type),
      bytes_(sizeof(StreamEvent) + 64 + 96 + fields->size_hint()),
      lazy_(std::move(fields)) {}

void StreamEvent::render() const {
    std::call_once(rendered_, [this] {
        if (!lazy_) return;
        addresses_ = lazy_->addresses();
        std::string fields;
        lazy_->render(fields, addresses_);
        frame_head(frame_, seq_, type_, fields.size());
        if (!fields.empty()) {
            frame_ += ',';
            frame_ += fields;
        }
        frame_ += "}\n\n";
        lazy_.reset();
    });
}

const std::string& StreamEvent::frame() const {
    render();
    return frame_;
}

const std::vector<std::string>& StreamEvent::addresses() const {
    render();
    return addresses_;
}

bool EventFilter::accepts(const StreamEvent& event) const noexcept {
    if ((types & (1u << static_cast<unsigned>(event.type()))) == 0) return false;
    if (address.empty()) return true;
    if (event.type() != EventType::kTx && event.type() != EventType::kTxConfirmed) return false;
    for (const auto& a : event.addresses()) {
        if (a == address) return true;
    }
    return false;
}

util::Result<std::uint32_t> EventFilter::parse_types(std::string_view text) {
    std::uint32_t types = 0;
    std::size_t count = 0;
    while (true) {
        const auto comma = text.find(',');
        const auto word = text.substr(0, comma);
        if (++count > 64) return util::Unexpected(util::Errc::kInvalidArgument, "too many types");
        const auto type = parse_event_type(word);
        if (!type) {
            return util::Unexpected(util::Errc::kInvalidArgument,
                                    "unknown event type '" + std::string(word.substr(0, 64)) +
                                        "' (block, reorg, block-disconnected, tx, "
                                        "tx-confirmed, peer, sync)");
        }
        types |= 1u << static_cast<unsigned>(*type);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return types;
}

std::string reset_frame(std::string_view reason, std::uint64_t oldest, std::uint64_t last) {
    boost::json::object data;
    data["seq"] = 0;
    data["type"] = "reset";
    data["reason"] = reason;
    data["oldest"] = oldest;
    data["last"] = last;
    return "event: reset\ndata: " + boost::json::serialize(data) + "\n\n";
}

// --- EventHub -------------------------------------------------------------------------------

std::uint64_t first_sequence_at(std::int64_t unix_ms) noexcept {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(unix_ms, 0)) * 1'000 + 1;
}

EventHub::EventHub(const util::Clock& clock, EventHubOptions options)
    : clock_(clock),
      options_(options),
      last_(options.first_sequence - 1),
      oldest_(options.first_sequence) {
    NODE_ASSERT(options_.capacity >= 1);
    NODE_ASSERT(options_.first_sequence >= 1);
    ring_.resize(options_.capacity);
}

std::uint64_t EventHub::publish(EventType type, const boost::json::object& data,
                                std::vector<std::string> addresses) {
    // "{...}" without its braces.
    const std::string text = to_json_text(data);
    return publish_fields(type, std::string_view(text).substr(1, text.size() - 2),
                          std::move(addresses));
}

std::uint64_t EventHub::publish_fields(EventType type, std::string_view fields,
                                       std::vector<std::string> addresses) {
    return store([&](std::uint64_t seq) {
        std::string frame;
        frame_head(frame, seq, type, fields.size());
        if (!fields.empty()) {
            frame += ',';
            frame += fields;
        }
        frame += "}\n\n";
        return std::make_shared<const StreamEvent>(seq, type, std::move(frame),
                                                   std::move(addresses));
    });
}

std::uint64_t EventHub::publish_lazy(EventType type, std::unique_ptr<const LazyFields> fields) {
    NODE_ASSERT(fields != nullptr);
    return store([&](std::uint64_t seq) {
        return std::make_shared<const StreamEvent>(seq, type, std::move(fields));
    });
}

template <typename Make>
std::uint64_t EventHub::store(Make&& make) {
    // One publisher at a time takes the next number and builds the event outside the
    // ring's lock: readers wait only for the store itself, and nobody sees a half-built
    // event.
    util::LockGuard publishing(publish_mutex_);
    std::uint64_t seq = 0;
    {
        util::LockGuard lock(mutex_);
        if (closed_) return 0;
        seq = last_ + 1;
    }
    StreamEventPtr event = make(seq);
    std::unordered_map<std::uint64_t, Waiter> woken;
    {
        util::LockGuard lock(mutex_);
        if (closed_) return 0;
        last_ = seq;
        bytes_ += event->memory_bytes();
        auto& slot = ring_[static_cast<std::size_t>(seq % options_.capacity)];
        if (slot) {  // full: the oldest goes
            bytes_ -= slot->memory_bytes();
            ++oldest_;
        }
        slot = std::move(event);
        // Big events (a transaction paying thousands of addresses) make room by bytes too.
        while (bytes_ > options_.max_bytes && oldest_ < last_) {
            auto& old = ring_[static_cast<std::size_t>(oldest_ % options_.capacity)];
            bytes_ -= old->memory_bytes();
            old.reset();
            ++oldest_;
        }
        woken.swap(waiters_);
    }
    for (auto& entry : woken) entry.second.wake(false);
    return seq;
}

EventHub::Read EventHub::read_after(std::uint64_t after, std::size_t max) const {
    Read out;
    util::LockGuard lock(mutex_);
    out.last = last_;
    out.oldest = oldest_;
    std::uint64_t from = after + 1;
    if (from < out.oldest) {
        out.gap = true;
        from = out.oldest;
    }
    for (std::uint64_t seq = from; seq <= last_ && out.events.size() < max; ++seq) {
        out.events.push_back(ring_[static_cast<std::size_t>(seq % options_.capacity)]);
    }
    return out;
}

std::uint64_t EventHub::wait(std::uint64_t after, std::int64_t quiet_since, Wake wake) {
    util::LockGuard lock(mutex_);
    if (closed_ || last_ > after) return 0;
    const std::uint64_t ticket = next_ticket_++;
    waiters_.emplace(ticket, Waiter{quiet_since, std::move(wake)});
    return ticket;
}

void EventHub::cancel_wait(std::uint64_t ticket) {
    Wake dropped;  // destroyed outside the lock: it may hold the last reference to a stream
    util::LockGuard lock(mutex_);
    auto it = waiters_.find(ticket);
    if (it == waiters_.end()) return;
    dropped = std::move(it->second.wake);
    waiters_.erase(it);
}

void EventHub::tick() {
    std::vector<Wake> due;
    {
        const std::int64_t now = clock_.now_seconds();
        util::LockGuard lock(mutex_);
        for (auto it = waiters_.begin(); it != waiters_.end();) {
            if (now - it->second.quiet_since >= options_.keep_alive_seconds) {
                due.push_back(std::move(it->second.wake));
                it = waiters_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& wake : due) wake(true);
}

void EventHub::close() {
    std::unordered_map<std::uint64_t, Waiter> woken;
    {
        util::LockGuard lock(mutex_);
        closed_ = true;
        woken.swap(waiters_);
    }
    for (auto& entry : woken) entry.second.wake(false);
}

bool EventHub::closed() const {
    util::LockGuard lock(mutex_);
    return closed_;
}

bool EventHub::acquire_stream() {
    util::LockGuard lock(mutex_);
    if (closed_ || streams_ >= options_.max_streams) return false;
    ++streams_;
    return true;
}

void EventHub::release_stream() {
    util::LockGuard lock(mutex_);
    if (streams_ > 0) --streams_;
}

std::size_t EventHub::open_streams() const {
    util::LockGuard lock(mutex_);
    return streams_;
}

std::uint64_t EventHub::last_sequence() const {
    util::LockGuard lock(mutex_);
    return last_;
}

// --- EventStream ----------------------------------------------------------------------------

std::shared_ptr<EventStream> EventStream::open(std::shared_ptr<EventHub> hub, EventFilter filter,
                                               std::optional<std::uint64_t> since) {
    if (!hub || !hub->acquire_stream()) return nullptr;
    return std::make_shared<EventStream>(Token{}, std::move(hub), std::move(filter), since);
}

EventStream::EventStream(Token, std::shared_ptr<EventHub> hub, EventFilter filter,
                         std::optional<std::uint64_t> since)
    : hub_(std::move(hub)), filter_(std::move(filter)) {
    const std::uint64_t last = hub_->last_sequence();
    quiet_since_ = hub_->now();
    if (!since) {
        after_ = last;
    } else if (*since == 0) {
        // "Everything held": read from the oldest, no reset for what went before it.
        after_ = hub_->read_after(0, 0).oldest - 1;
        from_oldest_ = true;
    } else {
        after_ = *since;
        resuming_ = true;
    }
}

EventStream::~EventStream() { hub_->release_stream(); }

void EventStream::pull(Next next) {
    std::string piece;
    if (!started_) {
        started_ = true;
        piece = kRetry;
        const std::uint64_t last = hub_->last_sequence();
        if (resuming_ && (after_ > last || after_ + 1 < hub_->first_sequence())) {
            // An id this run never gave (one from the future, or from before a restart):
            // start over from what is held, saying so.
            const auto read = hub_->read_after(0, 0);
            piece += reset_frame("unknown-id", read.oldest, read.last);
            after_ = read.oldest - 1;
            resuming_ = false;
        }
    }
    produce(std::move(next), std::move(piece));
}

void EventStream::produce(Next next, std::string piece) {
    while (true) {
        if (ended_) return next(std::nullopt);
        const auto read = hub_->read_after(after_, kMaxReadBatch);
        // A stream asked for everything held may find the ring moved on between its opening
        // and its first read (a burst of blocks): it starts at what is held now, as asked,
        // rather than being cut off as a client that fell behind.
        if (read.gap && !from_oldest_) {
            if (resuming_) {
                piece += reset_frame("fell-behind", read.oldest, read.last);
            } else {
                // A live client more than the ring behind: cut off. Its reconnect with its
                // last id gets the reset.
                ended_ = true;
                if (piece.empty()) return next(std::nullopt);
                return next(std::move(piece));
            }
        }
        resuming_ = false;
        from_oldest_ = false;
        for (const auto& event : read.events) {
            if (piece.size() >= kMaxPiece) break;
            if (filter_.accepts(*event)) piece += event->frame();
            after_ = event->seq();
        }
        if (!piece.empty()) {
            quiet_since_ = hub_->now();
            return next(std::move(piece));
        }
        if (read.events.size() == kMaxReadBatch) continue;  // all filtered out: read on
        if (hub_->closed()) return next(std::nullopt);
        util::LockGuard lock(mutex_);
        if (cancelled_) return;
        std::weak_ptr<EventStream> weak = weak_from_this();
        const std::uint64_t ticket = hub_->wait(after_, quiet_since_, [weak](bool keep_alive) {
            if (auto self = weak.lock()) self->woken(keep_alive);
        });
        if (ticket != 0) {
            waiting_ = std::move(next);
            ticket_ = ticket;
            return;
        }
        // An event came (or the hub closed) between the read and the wait: read again.
    }
}

void EventStream::woken(bool keep_alive) {
    Next next;
    {
        util::LockGuard lock(mutex_);
        if (cancelled_ || !waiting_) return;
        next = std::move(waiting_);
        waiting_ = nullptr;
        ticket_ = 0;
    }
    if (keep_alive) {
        quiet_since_ = hub_->now();
        return next(std::string(kKeepAlive));
    }
    produce(std::move(next), {});
}

void EventStream::cancel() noexcept {
    std::uint64_t ticket = 0;
    Next dropped;
    {
        util::LockGuard lock(mutex_);
        cancelled_ = true;
        ticket = ticket_;
        ticket_ = 0;
        dropped = std::move(waiting_);
        waiting_ = nullptr;
    }
    if (ticket != 0) hub_->cancel_wait(ticket);
}

}  // namespace peerchain::api
