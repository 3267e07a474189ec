// `peerchain events`: follows a node's event stream (GET /events, server-sent events) and
// prints each event as one readable line, or with --json each event's data line (one JSON
// object a line, for scripts). When the stream ends (the node restarted, or cut a client
// that read too slowly) it reconnects after the server's `retry` wait with Last-Event-ID,
// so that the node sends what was missed, or a `reset` event when it no longer can.
//
// Thread-safety: SseParser and the formatters are single-threaded values; run_events()
// blocks until the process is stopped (or the first connection fails).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/wallet_cli.hpp"

namespace peerchain::app {

// One dispatched event of the text/event-stream format.
struct SseEvent {
    std::string id;     // empty when the event had no id field
    std::string event;  // "message" when it had no event field
    std::string data;   // data lines joined with '\n'
};

// The text/event-stream format (WHATWG HTML, "server-sent events"), fed in pieces of any
// size: lines end in LF, CRLF or CR; a blank line dispatches; comments (":...") are
// skipped; `retry` sets retry_ms. A line over max_line bytes makes the parser fail (the
// stream is not one we can follow) rather than grow without bound.
class SseParser {
  public:
    explicit SseParser(std::size_t max_line = 1u << 20) : max_line_(max_line) {}

    // The events completed by `piece`; sets failed() on an over-long line.
    std::vector<SseEvent> feed(std::string_view piece);
    bool failed() const noexcept { return failed_; }
    std::optional<std::uint64_t> retry_ms() const noexcept { return retry_ms_; }

  private:
    void line(std::string_view text, std::vector<SseEvent>& out);

    std::size_t max_line_;
    std::string partial_;
    bool after_cr_ = false;
    bool failed_ = false;
    bool has_data_ = false;
    SseEvent current_;
    std::optional<std::uint64_t> retry_ms_;
};

// One line for an event: "#<seq> <type>  key=value ..." from its JSON data; the data as
// it is when it is not a JSON object.
std::string format_event(const SseEvent& event);

struct EventsOptions {
    std::string types;    // ?types=, empty for all
    std::string address;  // ?address=, empty for any
    std::optional<std::uint64_t> since;
    // Stop after this many events (0: follow until stopped); for scripts and tests.
    std::uint64_t limit = 0;
};

// The request target for `options` (query values percent-encoded).
std::string events_target(const EventsOptions& options);

// Follows the stream of the node of `client`, printing to stdout. Returns 1 with one line
// on stderr when the first connection fails or the node refuses the request (a bad
// filter); otherwise follows, reconnecting, until `limit` events or a signal.
int run_events(const EventsOptions& options, const WalletCliOptions& client);

}  // namespace peerchain::app
