// AddrMan: the address book, after Bitcoin Core's addrman (src/addrman.h, addrman_impl.h).
// Addresses we heard of but never connected to sit in the "new" table; those we completed
// a handshake with move to the "tried" table. Both are arrays of buckets of slots, and the
// bucket and slot of an address come from a keyed hash, with a key peers cannot know:
//
//   tried bucket = H(key, group(addr), H(key, addr) % tried_buckets_per_group) % tried_buckets
//   new bucket   = H(key, source group, H(key, group(addr), source group)
//                    % new_buckets_per_source_group) % new_buckets
//   slot         = H(key, table, bucket, addr) % bucket_size
//
// So whatever one source group sends fills at most new_buckets_per_source_group buckets
// (16 x 64 = 1024 slots by default), one address group at most tried_buckets_per_group
// tried buckets, and selection, which picks a bucket first, cannot be dominated by whoever
// sends the most addresses. A newcomer takes a new slot only when it is free or holds a
// "terrible" entry (Core's IsTerrible); a live entry is never evicted by gossip. Unlike Core,
// an address lives in one new bucket only (no reference counts): simpler, and the bound on
// what a source can fill is the same. Every entry holds exactly one slot, so the book never
// holds more than (new_buckets + tried_buckets) x bucket_size entries.
//
// Entries are keyed by host and port; transports are a property of the entry (merged when
// an address is heard of again), and are ignored when looking an address up.
//
// Persistence (serialize/deserialize, save/load), integers little-endian (core::Writer),
// str and trailer as in file_format.hpp (u16 length, printable ASCII):
//
//   file         = magic version key count entry{count} trailer
//   magic        = "PCAD"
//   version      = u8                     ; 1
//   key          = 32 bytes               ; the bucketing key
//   count        = u32                    ; at most the book's capacity
//   entry        = flags host port transports last_seen last_try last_success
//                  last_count_attempt attempts source source_group
//   flags        = u8                     ; bit 0: in the tried table; other bits zero
//   host         = str                    ; canonical, as NetAddress::parse writes it
//   port         = u16                    ; not 0
//   transports   = u8                     ; known bits only, not 0
//   last_*       = i64                    ; Unix seconds, not negative
//   attempts     = u32
//   source       = str                    ; the source label, <= kMaxSourceLabel bytes
//   source_group = str                    ; <= kMaxGroupLength bytes
//   trailer      = 32 bytes               ; SHA-256 of every byte before it
//
// Loading checks every field, refuses duplicates, trailing bytes and a bad trailer, and
// re-inserts tried entries first, then new ones, by the file's key; an entry whose slot is
// taken is dropped.
//
// Thread-safety: every public function may be called from any thread; one internal mutex
// guards everything. The `accept` callbacks run without the lock held.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "net/addrman/net_address.hpp"
#include "util/bytes.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"

namespace peerchain::net::addrman {

inline constexpr std::size_t kMaxSourceLabel = 80;
inline constexpr std::size_t kMaxGroupLength = 300;

struct AddrManConfig {
    // The bucketing key; all zero draws a random one (the usual case: tests fix it).
    std::array<std::uint8_t, 32> key{};
    // Seeds selection and sampling; 0 draws a random seed.
    std::uint64_t rng_seed = 0;
    // Table shapes (Core: ADDRMAN_NEW_BUCKET_COUNT and friends). Each is raised to at
    // least 1 and capped at 4096; the per-group counts are capped at their table's.
    std::size_t new_buckets = 256;
    std::size_t tried_buckets = 64;
    std::size_t bucket_size = 64;
    std::size_t new_buckets_per_source_group = 16;
    std::size_t tried_buckets_per_group = 8;
    // An address not seen for this long is dropped on arrival and terrible once held.
    std::int64_t horizon = 30 * 24 * 60 * 60;
    // A last_seen further ahead than this is dropped on arrival and terrible once held.
    std::int64_t max_future = 10 * 60;
    // Terrible after this many failed attempts without any success (Core: ADDRMAN_RETRIES)...
    std::uint32_t retries = 3;
    // ...or after this many failures with no success for min_fail seconds.
    std::uint32_t max_failures = 10;
    std::int64_t min_fail = 7 * 24 * 60 * 60;
    // connected() refreshes last_seen at most this often (Core: 20 minutes).
    std::int64_t connected_interval = 20 * 60;
    // select() gives up after this many picks refused by its `accept`.
    std::size_t max_select_tries = 200;
};

// Who told us of an address.
struct Source {
    std::string label;   // shown by the API: "manual", "self", "addr from 1.2.3.4:6001", ...
    std::string host;    // the telling peer's IP, for the locality rule and its group
    bool local = false;  // manual or self: trusted, skips the locality rule, group "local"
};

// One entry, as the API shows it.
struct AddrInfo {
    NetAddress address;
    std::string source;             // the label of the source that first told us
    std::int64_t last_seen = 0;     // when last known to be up (gossip or our connection)
    std::int64_t last_try = 0;      // our last dial, 0 never
    std::int64_t last_success = 0;  // our last completed handshake, 0 never
    std::uint32_t attempts = 0;     // failed dials counted since the last success
    bool tried = false;             // in the tried table
};

class AddrMan {
  public:
    using Accept = std::function<bool(const NetAddress&)>;
    using Timed = std::pair<NetAddress, std::int64_t>;  // an address and its last_seen

    // `clock` must outlive the book. Throws only when the system has no randomness.
    AddrMan(AddrManConfig config, const util::Clock& clock);
    AddrMan(const AddrMan&) = delete;
    AddrMan& operator=(const AddrMan&) = delete;

    // Adds what `source` told us. Drops, without error, invalid addresses (each is checked
    // again with NetAddress::parse), a last_seen more than max_future ahead or more than
    // horizon behind, and, for a source that is not local, what fails accept_from. A known
    // address gets the later last_seen and the union of transports; a new one takes its new
    // slot if free or terrible, else is dropped. Returns how many addresses were new.
    std::size_t add(const std::vector<Timed>& items, const Source& source) EXCLUDES(mutex_);

    // We dialed `address`. Counts a failure only when `count_failure` and nothing was
    // counted for it since the last good() of any address (so that an outage of our own
    // link does not make the whole book terrible; Core does the same). False if unknown.
    bool attempt(const NetAddress& address, bool count_failure) EXCLUDES(mutex_);
    // A connection to `address` completed its handshake: moves it to tried (the entry in
    // its tried slot, if any, goes back to new, evicting what sits in that new slot),
    // resets attempts, sets last_try, last_success and last_seen. False if unknown.
    bool good(const NetAddress& address) EXCLUDES(mutex_);
    // A connected peer is alive: refreshes last_seen if older than connected_interval.
    // False if unknown.
    bool connected(const NetAddress& address) EXCLUDES(mutex_);
    // Forgets `address`. False if unknown.
    bool remove(const NetAddress& address) EXCLUDES(mutex_);

    // An address to dial, chosen like Core's Select: tried or new with even odds (new only
    // when `new_only`, or when tried is empty), a random non-empty bucket, a random slot,
    // kept with a chance that falls with recent and failed attempts. A pick that `accept`
    // refuses (already connected, group in use) is drawn again, up to max_select_tries
    // times. nullopt when the book (or new table) is empty or nothing was accepted.
    std::optional<AddrInfo> select(bool new_only, const Accept& accept = {}) EXCLUDES(mutex_);

    // Addresses for a getaddr answer: a random choice of at most `max_count` and at most
    // `max_pct` percent of the book (but `min_count` when the percentage of a small book
    // gives fewer: 23% of 4 addresses is none, and a young network needs them), never
    // terrible entries, only those `accept` takes (e.g. no private addresses for a
    // routable peer).
    std::vector<Timed> sample(std::size_t max_count, std::size_t max_pct, const Accept& accept = {},
                              std::size_t min_count = 0) const EXCLUDES(mutex_);

    // Every entry, ordered by host_port().
    std::vector<AddrInfo> list() const EXCLUDES(mutex_);
    std::optional<AddrInfo> find(const NetAddress& address) const EXCLUDES(mutex_);
    std::size_t size() const EXCLUDES(mutex_);
    std::size_t new_count() const EXCLUDES(mutex_);
    std::size_t tried_count() const EXCLUDES(mutex_);
    // The most entries the book can hold: (new_buckets + tried_buckets) x bucket_size.
    std::size_t capacity() const {
        return (config_.new_buckets + config_.tried_buckets) * config_.bucket_size;
    }
    // An estimate of the heap and object bytes held, allocator overhead included.
    std::size_t memory_usage() const EXCLUDES(mutex_);

    // Where `address` would go, for tests and diagnostics: its new bucket when told by
    // `source`, and its tried bucket.
    std::size_t new_bucket(const NetAddress& address, const Source& source) const EXCLUDES(mutex_);
    std::size_t tried_bucket(const NetAddress& address) const EXCLUDES(mutex_);

    // The file of the grammar above.
    util::Bytes serialize() const EXCLUDES(mutex_);
    // Replaces the whole book (and the key) with the file's. On any error (kDecode,
    // kCorruption) the book is unchanged. Returns how many entries were kept.
    util::Result<std::size_t> deserialize(util::ByteSpan bytes) EXCLUDES(mutex_);
    // serialize() written with util::write_file_atomic (mode 0600). kIo on failure.
    util::Result<void> save(const std::filesystem::path& path) const EXCLUDES(save_mutex_, mutex_);
    // deserialize() of the file; a missing file leaves the book as it is and returns 0.
    // kIo when it cannot be read, as deserialize() otherwise.
    util::Result<std::size_t> load(const std::filesystem::path& path) EXCLUDES(mutex_);

  private:
    struct Entry {
        AddrInfo info;
        std::string source_group;
        std::int64_t last_count_attempt = 0;
        std::uint32_t bucket = 0;
        std::uint32_t slot = 0;
        bool in_use = false;
    };

    static constexpr std::int32_t kEmpty = -1;

    std::int32_t find_id(const NetAddress& address) const REQUIRES(mutex_);
    std::uint32_t new_bucket_of(const std::string& group, const std::string& source_group) const
        REQUIRES(mutex_);
    std::uint32_t tried_bucket_of(const NetAddress& address) const REQUIRES(mutex_);
    std::uint32_t slot_of(bool tried, std::uint32_t bucket, const NetAddress& address) const
        REQUIRES(mutex_);
    std::int32_t& cell(bool tried, std::uint32_t bucket, std::uint32_t slot) REQUIRES(mutex_);
    bool is_terrible(const Entry& e, std::int64_t now) const REQUIRES(mutex_);
    double chance(const Entry& e, std::int64_t now) const REQUIRES(mutex_);
    // Makes an entry and puts it in the given slot, which must be empty.
    void insert(AddrInfo info, std::string source_group, std::int64_t last_count_attempt,
                std::uint32_t bucket, std::uint32_t slot) REQUIRES(mutex_);
    void place(std::int32_t id, bool tried, std::uint32_t bucket, std::uint32_t slot)
        REQUIRES(mutex_);
    void unplace(std::int32_t id) REQUIRES(mutex_);
    void erase(std::int32_t id) REQUIRES(mutex_);
    void make_tried(std::int32_t id) REQUIRES(mutex_);
    std::optional<AddrInfo> pick(bool new_only, double& chance_factor) REQUIRES(mutex_);
    void clear() REQUIRES(mutex_);

    const AddrManConfig config_;  // with the table shapes clamped
    const util::Clock& clock_;

    mutable util::Mutex save_mutex_;  // one save at a time: saves share the tmp file
    mutable util::Mutex mutex_;
    std::array<std::uint8_t, 32> key_ GUARDED_BY(mutex_);
    mutable std::mt19937_64 rng_ GUARDED_BY(mutex_);
    std::vector<Entry> entries_ GUARDED_BY(mutex_);  // by id; ids are reused
    std::vector<std::int32_t> free_ids_ GUARDED_BY(mutex_);
    std::map<std::string, std::int32_t> index_ GUARDED_BY(mutex_);  // host_port() -> id
    std::vector<std::int32_t> new_table_ GUARDED_BY(mutex_);        // bucket * size + slot
    std::vector<std::int32_t> tried_table_ GUARDED_BY(mutex_);
    std::vector<std::uint16_t> new_fill_ GUARDED_BY(mutex_);  // entries per bucket
    std::vector<std::uint16_t> tried_fill_ GUARDED_BY(mutex_);
    std::size_t new_count_ GUARDED_BY(mutex_) = 0;
    std::size_t tried_count_ GUARDED_BY(mutex_) = 0;
    // When good() last ran; attempts before it count again (Core's m_last_good).
    std::int64_t last_good_ GUARDED_BY(mutex_) = 1;
};

}  // namespace peerchain::net::addrman
