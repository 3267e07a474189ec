// BanMan: the peers we refuse, after Bitcoin Core's BanMan (src/banman.h). Two lists:
//
// - Discouraged hosts: a peer that sent consensus-invalid data. Kept in memory only, for
//   discourage_time (24 h), at most max_discouraged of them (the one closest to expiry
//   makes room), keyed by the canonical IP text alone. Loopback hosts are never
//   discouraged (Core does the same: the caller only disconnects them), so a local test
//   network cannot cut itself apart.
// - Manual bans, set through the API: keyed by a host ("1.2.3.4", "::1": every port) or
//   one listening endpoint ("127.0.0.1:6001", "[::1]:6001": useful where many nodes share
//   a host), each with a creation time and an expiry of at most max_ban_time; at most
//   max_bans of them. Persisted at `path` after every change, in this file (integers
//   little-endian, str and trailer as in file_format.hpp):
//
//     file    = magic version count ban{count} trailer
//     magic   = "PCBN"
//     version = u8                      ; 1
//     count   = u32                     ; at most max_bans
//     ban     = address created until
//     address = str                     ; a key as parse_ban_address() writes it
//     created = i64                     ; Unix seconds, not negative
//     until   = i64                     ; after created, by at most max_ban_time
//
// Expired entries stop counting at once and are swept from memory by the next change
// (or sweep()); load() skips those of the file.
//
// Thread-safety: every public function may be called from any thread; one internal mutex
// guards the lists, another orders the file writes (the lists' lock is not held across
// them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/clock.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"

namespace peerchain::net::addrman {

struct BanManConfig {
    std::filesystem::path path;  // where manual bans are kept; empty: memory only
    std::int64_t discourage_time = 24 * 60 * 60;
    std::size_t max_discouraged = 10'000;
    std::size_t max_bans = 10'000;
    std::int64_t max_ban_time = 10LL * 365 * 24 * 60 * 60;  // about ten years
};

enum class BanKind { kBanned, kDiscouraged };

// "banned" or "discouraged".
const char* ban_kind_name(BanKind kind) noexcept;

struct BanEntry {
    BanKind kind = BanKind::kBanned;
    std::string address;  // the key: "1.2.3.4", "::1", "127.0.0.1:6001", "[::1]:6001"
    std::int64_t created = 0;
    std::int64_t until = 0;  // no longer in effect from this second on
};

// The canonical key of a ban: "host" (an IPv6 one with or without brackets) for every
// port, "host:port" or "[v6]:port" for one. The host is checked and canonicalized as by
// canonical_host(). kInvalidArgument on anything else, or a port outside 1..65535.
util::Result<std::string> parse_ban_address(std::string_view address);

class BanMan {
  public:
    // `clock` must outlive this. Nothing is read from disk until load().
    BanMan(BanManConfig config, const util::Clock& clock);
    BanMan(const BanMan&) = delete;
    BanMan& operator=(const BanMan&) = delete;

    // Discourages the IP `host` for discourage_time from now (again, if it already is).
    // False, changing nothing, for a loopback host or text that is not an IP.
    bool discourage(std::string_view host) EXCLUDES(mutex_, save_mutex_);
    bool is_discouraged(std::string_view host) const EXCLUDES(mutex_);

    // Bans `address` (parse_ban_address) for `seconds` from now, replacing a ban it has.
    // kInvalidArgument for a bad address, seconds outside 1..max_ban_time, or a full list.
    // When the file cannot be written the ban is in effect anyway and the error (kIo)
    // says it was not saved.
    util::Result<void> ban(std::string_view address, std::int64_t seconds)
        EXCLUDES(mutex_, save_mutex_);
    // Lifts the ban on exactly `address` (its canonical key). True if there was one.
    // kInvalidArgument for a bad address; kIo as for ban(), the ban being lifted anyway.
    util::Result<bool> unban(std::string_view address) EXCLUDES(mutex_, save_mutex_);
    // Whether a peer at `host`, listening (or connecting) on `port`, is banned: by a ban on
    // the host or on host:port. A host that does not parse is not banned.
    bool is_banned(std::string_view host, std::uint16_t port) const EXCLUDES(mutex_);

    // Bans, then discouraged hosts, each ordered by address; expired ones left out.
    std::vector<BanEntry> list() const EXCLUDES(mutex_);
    // Drops expired entries from memory. Returns how many.
    std::size_t sweep() EXCLUDES(mutex_);

    // Replaces the manual bans with the file's (expired ones skipped). A missing file, or
    // no path, gives 0. kIo when it cannot be read; kCorruption, with the bans unchanged,
    // for a file that does not check.
    util::Result<std::size_t> load() EXCLUDES(mutex_);

  private:
    struct Times {
        std::int64_t created = 0;
        std::int64_t until = 0;
    };

    std::size_t sweep_locked(std::int64_t now) REQUIRES(mutex_);
    util::Result<void> persist() const EXCLUDES(mutex_, save_mutex_);

    const BanManConfig config_;
    const util::Clock& clock_;

    mutable util::Mutex save_mutex_;  // one write of the file at a time, in order
    mutable util::Mutex mutex_;
    std::map<std::string, Times> bans_ GUARDED_BY(mutex_);
    std::map<std::string, Times> discouraged_ GUARDED_BY(mutex_);
    // (until, host) of every discouraged host: the first expires first.
    std::set<std::pair<std::int64_t, std::string>> discouraged_by_expiry_ GUARDED_BY(mutex_);
};

}  // namespace peerchain::net::addrman
