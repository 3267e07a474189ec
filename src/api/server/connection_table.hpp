// ConnectionTable: which HTTP connections an HttpServer holds, and whom a newcomer may push
// out (issue 8, point 7). Pure bookkeeping, no sockets: the server asks it on every accept
// and tells it when a connection starts or stops waiting for a request.
//
// Policy. A connection is evictable while it waits for a request's headers (a new
// connection, an idle keep-alive one, one that trickles its headers) or lingers after its
// last answer; once its headers are in (its request is handled, answered or streamed) it is
// not. A newcomer from a client (a remote IP) that already has max_per_client connections
// evicts that client's connection that has waited longest; otherwise, when max_connections
// are open, it evicts the one that has waited longest of all. When there is nothing to
// evict, the newcomer is refused (the server answers 503), and beyond max_rejecting refusals
// at once it is dropped unanswered. An honest client sends its request at once, so it is
// never the one that has waited longest.
//
// An evicted connection still counts as open until forget(), but no longer against the
// limits; at most max_rejecting evictions may be under way at once, so the table stays
// bounded. A connection chosen for eviction learns it from waiting_done() returning false.
//
// Thread-safety: every member function may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::api::detail {

class ConnectionTable {
  public:
    using Clock = std::chrono::steady_clock;

    struct Limits {
        std::size_t max_connections;
        std::size_t max_per_client;
        std::size_t max_rejecting;
    };

    struct Admission {
        enum class Kind { kAdmitted, kRefused, kDropped };
        Kind kind;
        std::uint64_t id;                    // meaningless when dropped
        std::optional<std::uint64_t> evict;  // a connection the caller must close now
    };

    explicit ConnectionTable(Limits limits) : limits_(limits) {}

    // A newcomer from `client` (its IP address as text) at `now`. Admitted and refused
    // connections must be forgotten once closed; an admitted one starts out waiting.
    Admission admit(const std::string& client, Clock::time_point now) EXCLUDES(mutex_);
    // Connection `id` waits for a request's headers (or lingers) from `now` on.
    void waiting(std::uint64_t id, Clock::time_point now) EXCLUDES(mutex_);
    // Connection `id` has its request's headers. False when it was chosen for eviction:
    // it must close instead of serving the request.
    bool waiting_done(std::uint64_t id) EXCLUDES(mutex_);
    void forget(std::uint64_t id) EXCLUDES(mutex_);

    // Connections open, counting those being refused or evicted.
    std::size_t size() const EXCLUDES(mutex_);

  private:
    struct Entry {
        std::string client;
        std::optional<Clock::time_point> waiting_since;  // empty while busy
        bool refused;
        bool evicted;
    };

    // The admitted, not evicted connection that has waited longest; of `client` alone when
    // it is non-null.
    std::optional<std::uint64_t> longest_waiting(const std::string* client) const REQUIRES(mutex_);

    const Limits limits_;
    mutable util::Mutex mutex_;
    std::unordered_map<std::uint64_t, Entry> entries_ GUARDED_BY(mutex_);
    std::unordered_map<std::string, std::size_t> per_client_ GUARDED_BY(mutex_);
    std::size_t live_ GUARDED_BY(mutex_) = 0;  // admitted and not evicted
    std::size_t refused_ GUARDED_BY(mutex_) = 0;
    std::size_t evicting_ GUARDED_BY(mutex_) = 0;
    std::uint64_t next_id_ GUARDED_BY(mutex_) = 0;
};

}  // namespace peerchain::api::detail
