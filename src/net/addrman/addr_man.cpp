#include "net/addrman/addr_man.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/serialize.hpp"
#include "crypto/random.hpp"
#include "crypto/sha256.hpp"
#include "net/addrman/file_format.hpp"
#include "util/file.hpp"

namespace peerchain::net::addrman {

namespace {

constexpr std::array<std::uint8_t, 4> kMagic{'P', 'C', 'A', 'D'};
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kFlagTried = 1;
// flags, host, port, transports, four times, attempts, source, source group.
constexpr std::size_t kMaxEntryBytes =
    1 + (2 + kMaxHostLength) + 2 + 1 + 4 * 8 + 4 + (2 + kMaxSourceLabel) + (2 + kMaxGroupLength);
constexpr std::size_t kMinEntryBytes = 1 + 2 + 2 + 1 + 4 * 8 + 4 + 2 + 2;
constexpr std::size_t kMaxTableShape = 4096;

// Table tags, so that no two hashes of different purpose share an input.
enum class Tag : std::uint8_t {
    kTriedSlotInGroup = 1,
    kTriedBucket = 2,
    kNewSlotInGroup = 3,
    kNewBucket = 4,
    kPosition = 5,
};

// SHA-256(key || tag || fields), the first 8 bytes as a little-endian integer. Strings are
// length-prefixed so that ("ab", "c") and ("a", "bc") differ.
class KeyedHash {
  public:
    KeyedHash(const std::array<std::uint8_t, 32>& key, Tag tag) {
        h_.write(key);
        const auto t = static_cast<std::uint8_t>(tag);
        h_.write(util::ByteSpan(&t, 1));
    }
    KeyedHash& str(std::string_view s) {
        u64(s.size());
        h_.write(util::as_bytes(s));
        return *this;
    }
    KeyedHash& u64(std::uint64_t v) {
        std::array<std::uint8_t, 8> b{};
        for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
        h_.write(b);
        return *this;
    }
    std::uint64_t value() {
        const crypto::Digest d = h_.finalize();
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | d[i];
        return v;
    }

  private:
    crypto::Sha256 h_;
};

AddrManConfig normalized(AddrManConfig c) {
    const auto shape = [](std::size_t v) { return std::clamp<std::size_t>(v, 1, kMaxTableShape); };
    c.new_buckets = shape(c.new_buckets);
    c.tried_buckets = shape(c.tried_buckets);
    c.bucket_size = shape(c.bucket_size);
    c.new_buckets_per_source_group =
        std::clamp<std::size_t>(c.new_buckets_per_source_group, 1, c.new_buckets);
    c.tried_buckets_per_group =
        std::clamp<std::size_t>(c.tried_buckets_per_group, 1, c.tried_buckets);
    c.max_select_tries = std::max<std::size_t>(c.max_select_tries, 1);
    return c;
}

// Peers that send us addresses are grouped like the addresses themselves when routable;
// a loopback, private or named peer by its host (its outgoing port says nothing). Manual
// and self-announced addresses share one group.
std::string source_group_of(const Source& source) {
    if (source.local) return "local";
    auto host = canonical_host(source.host);
    if (!host) return "unknown";
    const NetAddress a{*host, 1, kTransportWebSocket};
    return a.is_routable() ? a.group() : "peer:" + *host;
}

// Labels are shown by the API and written to the file: bounded and printable.
std::string clean_label(std::string_view label) {
    std::string out(label.substr(0, kMaxSourceLabel));
    for (char& c : out) {
        if (c < 0x20 || c > 0x7e) c = '?';
    }
    return out;
}

// Heap bytes of a string beyond its inline buffer, with the allocator's own overhead.
std::size_t heap_bytes(const std::string& s) {
    static const std::size_t inline_capacity = std::string().capacity();
    return s.capacity() > inline_capacity ? s.capacity() + 1 + 16 : 0;
}

util::Unexpected corrupt(const std::string& what) {
    return util::Unexpected(util::Errc::kCorruption, "address book file: " + what);
}

}  // namespace

AddrMan::AddrMan(AddrManConfig config, const util::Clock& clock)
    : config_(normalized(config)), clock_(clock) {
    util::LockGuard lock(mutex_);
    key_ = config_.key;
    if (std::all_of(key_.begin(), key_.end(), [](auto b) { return b == 0; })) {
        crypto::random_bytes(key_);
    }
    std::uint64_t seed = config_.rng_seed;
    while (seed == 0) {
        std::array<std::uint8_t, 8> b{};
        crypto::random_bytes(b);
        for (const auto x : b) seed = (seed << 8) | x;
    }
    rng_.seed(seed);
    clear();
}

void AddrMan::clear() {
    entries_.clear();
    free_ids_.clear();
    index_.clear();
    new_table_.assign(config_.new_buckets * config_.bucket_size, kEmpty);
    tried_table_.assign(config_.tried_buckets * config_.bucket_size, kEmpty);
    new_fill_.assign(config_.new_buckets, 0);
    tried_fill_.assign(config_.tried_buckets, 0);
    new_count_ = 0;
    tried_count_ = 0;
    last_good_ = 1;
}

std::int32_t AddrMan::find_id(const NetAddress& address) const {
    const auto it = index_.find(address.host_port());
    return it == index_.end() ? kEmpty : it->second;
}

std::uint32_t AddrMan::new_bucket_of(const std::string& group,
                                     const std::string& source_group) const {
    const std::uint64_t in_group =
        KeyedHash(key_, Tag::kNewSlotInGroup).str(group).str(source_group).value() %
        config_.new_buckets_per_source_group;
    return static_cast<std::uint32_t>(
        KeyedHash(key_, Tag::kNewBucket).str(source_group).u64(in_group).value() %
        config_.new_buckets);
}

std::uint32_t AddrMan::tried_bucket_of(const NetAddress& address) const {
    const std::uint64_t in_group =
        KeyedHash(key_, Tag::kTriedSlotInGroup).str(address.host_port()).value() %
        config_.tried_buckets_per_group;
    return static_cast<std::uint32_t>(
        KeyedHash(key_, Tag::kTriedBucket).str(address.group()).u64(in_group).value() %
        config_.tried_buckets);
}

std::uint32_t AddrMan::slot_of(bool tried, std::uint32_t bucket, const NetAddress& address) const {
    return static_cast<std::uint32_t>(KeyedHash(key_, Tag::kPosition)
                                          .u64(tried ? 1 : 0)
                                          .u64(bucket)
                                          .str(address.host_port())
                                          .value() %
                                      config_.bucket_size);
}

std::int32_t& AddrMan::cell(bool tried, std::uint32_t bucket, std::uint32_t slot) {
    auto& table = tried ? tried_table_ : new_table_;
    return table[std::size_t{bucket} * config_.bucket_size + slot];
}

// Core's AddrInfo::IsTerrible.
bool AddrMan::is_terrible(const Entry& e, std::int64_t now) const {
    const AddrInfo& i = e.info;
    if (i.last_try != 0 && i.last_try >= now - 60) return false;  // being tried right now
    if (i.last_seen > now + config_.max_future) return true;
    if (i.last_seen < now - config_.horizon) return true;
    if (i.last_success == 0 && i.attempts >= config_.retries) return true;
    if (i.last_success < now - config_.min_fail && i.attempts >= config_.max_failures) {
        return true;
    }
    return false;
}

// Core's AddrInfo::GetChance: recently tried addresses wait, each failure costs a third,
// down to 0.66^8 so that an outage of our own link does not bury the book.
double AddrMan::chance(const Entry& e, std::int64_t now) const {
    double c = 1.0;
    if (now - e.info.last_try < 10 * 60) c *= 0.01;
    return c * std::pow(0.66, std::min<std::uint32_t>(e.info.attempts, 8));
}

void AddrMan::place(std::int32_t id, bool tried, std::uint32_t bucket, std::uint32_t slot) {
    NODE_ASSERT(cell(tried, bucket, slot) == kEmpty);
    cell(tried, bucket, slot) = id;
    Entry& e = entries_[static_cast<std::size_t>(id)];
    e.info.tried = tried;
    e.bucket = bucket;
    e.slot = slot;
    ++(tried ? tried_fill_ : new_fill_)[bucket];
    ++(tried ? tried_count_ : new_count_);
}

void AddrMan::unplace(std::int32_t id) {
    const Entry& e = entries_[static_cast<std::size_t>(id)];
    const bool tried = e.info.tried;
    NODE_ASSERT(cell(tried, e.bucket, e.slot) == id);
    cell(tried, e.bucket, e.slot) = kEmpty;
    --(tried ? tried_fill_ : new_fill_)[e.bucket];
    --(tried ? tried_count_ : new_count_);
}

void AddrMan::insert(AddrInfo info, std::string source_group, std::int64_t last_count_attempt,
                     std::uint32_t bucket, std::uint32_t slot) {
    std::int32_t id;
    if (!free_ids_.empty()) {
        id = free_ids_.back();
        free_ids_.pop_back();
    } else {
        id = static_cast<std::int32_t>(entries_.size());
        // Grown by doubling up to the capacity and no further: ids are reused, so the
        // vector never needs more.
        if (entries_.size() == entries_.capacity()) {
            entries_.reserve(std::min(std::max<std::size_t>(64, 2 * entries_.size()), capacity()));
        }
        entries_.emplace_back();
    }
    const bool tried = info.tried;
    index_.emplace(info.address.host_port(), id);
    Entry& e = entries_[static_cast<std::size_t>(id)];
    e.info = std::move(info);
    e.source_group = std::move(source_group);
    e.last_count_attempt = last_count_attempt;
    e.in_use = true;
    place(id, tried, bucket, slot);
}

void AddrMan::erase(std::int32_t id) {
    unplace(id);
    Entry& e = entries_[static_cast<std::size_t>(id)];
    index_.erase(e.info.address.host_port());
    e = Entry{};
    free_ids_.push_back(id);
}

// Core's MakeTried, without its test-before-evict: the entry in the way goes back to new
// (where it may evict, like Core's ClearNew) rather than waiting for a feeler connection.
void AddrMan::make_tried(std::int32_t id) {
    unplace(id);
    const NetAddress address = entries_[static_cast<std::size_t>(id)].info.address;
    const std::uint32_t bucket = tried_bucket_of(address);
    const std::uint32_t slot = slot_of(true, bucket, address);
    if (const std::int32_t old = cell(true, bucket, slot); old != kEmpty) {
        unplace(old);
        const Entry& o = entries_[static_cast<std::size_t>(old)];
        const std::uint32_t new_b = new_bucket_of(o.info.address.group(), o.source_group);
        const std::uint32_t new_s = slot_of(false, new_b, o.info.address);
        if (const std::int32_t gone = cell(false, new_b, new_s); gone != kEmpty) erase(gone);
        place(old, false, new_b, new_s);
    }
    place(id, true, bucket, slot);
}

std::size_t AddrMan::add(const std::vector<Timed>& items, const Source& source) {
    const std::int64_t now = clock_.now_seconds();
    const std::string source_group = source_group_of(source);
    const std::string label = clean_label(source.label);
    std::vector<Timed> fit;
    fit.reserve(items.size());
    for (const auto& [address, seen] : items) {
        if (seen > now + config_.max_future || seen < now - config_.horizon) continue;
        auto parsed = NetAddress::parse(address.host, address.port, address.transports);
        if (!parsed) continue;
        if (!source.local && !accept_from(*parsed, source.host)) continue;
        fit.emplace_back(std::move(*parsed), seen);
    }

    util::LockGuard lock(mutex_);
    std::size_t added = 0;
    for (auto& [address, seen] : fit) {
        if (const std::int32_t id = find_id(address); id != kEmpty) {
            AddrInfo& info = entries_[static_cast<std::size_t>(id)].info;
            info.last_seen = std::max(info.last_seen, seen);
            info.address.transports |= address.transports;
            continue;
        }
        const std::uint32_t bucket = new_bucket_of(address.group(), source_group);
        const std::uint32_t slot = slot_of(false, bucket, address);
        if (const std::int32_t old = cell(false, bucket, slot); old != kEmpty) {
            if (!is_terrible(entries_[static_cast<std::size_t>(old)], now)) continue;
            erase(old);
        }
        AddrInfo info;
        info.address = std::move(address);
        info.source = label;
        info.last_seen = seen;
        insert(std::move(info), source_group, 0, bucket, slot);
        ++added;
    }
    return added;
}

bool AddrMan::attempt(const NetAddress& address, bool count_failure) {
    const std::int64_t now = clock_.now_seconds();
    util::LockGuard lock(mutex_);
    const std::int32_t id = find_id(address);
    if (id == kEmpty) return false;
    Entry& e = entries_[static_cast<std::size_t>(id)];
    e.info.last_try = now;
    if (count_failure && e.last_count_attempt < last_good_) {
        e.last_count_attempt = now;
        ++e.info.attempts;
    }
    return true;
}

bool AddrMan::good(const NetAddress& address) {
    const std::int64_t now = clock_.now_seconds();
    util::LockGuard lock(mutex_);
    const std::int32_t id = find_id(address);
    if (id == kEmpty) return false;
    last_good_ = now;
    AddrInfo& info = entries_[static_cast<std::size_t>(id)].info;
    info.last_success = now;
    info.last_try = now;
    info.last_seen = now;
    info.attempts = 0;
    if (!info.tried) make_tried(id);
    return true;
}

bool AddrMan::connected(const NetAddress& address) {
    const std::int64_t now = clock_.now_seconds();
    util::LockGuard lock(mutex_);
    const std::int32_t id = find_id(address);
    if (id == kEmpty) return false;
    AddrInfo& info = entries_[static_cast<std::size_t>(id)].info;
    if (now - info.last_seen > config_.connected_interval) info.last_seen = now;
    return true;
}

bool AddrMan::remove(const NetAddress& address) {
    util::LockGuard lock(mutex_);
    const std::int32_t id = find_id(address);
    if (id == kEmpty) return false;
    erase(id);
    return true;
}

// One draw of Core's Select loop. Picking among the non-empty buckets is what Core's
// "pick a bucket, retry if empty" comes to, without spinning on a sparse table. It ends:
// every chance is at least 0.01 * 0.66^8 and the factor grows by 1.2 each round.
std::optional<AddrInfo> AddrMan::pick(bool new_only, double& chance_factor) {
    if (new_count_ + tried_count_ == 0 || (new_only && new_count_ == 0)) return std::nullopt;
    const std::int64_t now = clock_.now_seconds();
    const bool tried = !new_only && tried_count_ > 0 && (new_count_ == 0 || (rng_() & 1) != 0);
    const auto& fill = tried ? tried_fill_ : new_fill_;
    std::vector<std::uint32_t> buckets;
    for (std::uint32_t b = 0; b < fill.size(); ++b) {
        if (fill[b] != 0) buckets.push_back(b);
    }
    std::uniform_int_distribution<std::size_t> any_bucket(0, buckets.size() - 1);
    std::uniform_int_distribution<std::uint32_t> any_slot(
        0, static_cast<std::uint32_t>(config_.bucket_size - 1));
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (;;) {
        const std::uint32_t bucket = buckets[any_bucket(rng_)];
        const std::uint32_t start = any_slot(rng_);
        std::int32_t id = kEmpty;
        for (std::size_t i = 0; i < config_.bucket_size && id == kEmpty; ++i) {
            id = cell(tried, bucket, static_cast<std::uint32_t>((start + i) % config_.bucket_size));
        }
        NODE_ASSERT(id != kEmpty);
        const Entry& e = entries_[static_cast<std::size_t>(id)];
        if (unit(rng_) < chance_factor * chance(e, now)) return e.info;
        chance_factor *= 1.2;
    }
}

std::optional<AddrInfo> AddrMan::select(bool new_only, const Accept& accept) {
    double chance_factor = 1.0;
    for (std::size_t tries = 0; tries < config_.max_select_tries; ++tries) {
        std::optional<AddrInfo> found;
        {
            util::LockGuard lock(mutex_);
            found = pick(new_only, chance_factor);
        }
        if (!found) return std::nullopt;
        if (!accept || accept(found->address)) return found;
    }
    return std::nullopt;
}

std::vector<AddrMan::Timed> AddrMan::sample(std::size_t max_count, std::size_t max_pct,
                                            const Accept& accept, std::size_t min_count) const {
    const std::int64_t now = clock_.now_seconds();
    std::vector<Timed> pool;
    std::size_t want = 0;
    {
        util::LockGuard lock(mutex_);
        const std::size_t size = new_count_ + tried_count_;
        want = std::min(max_count, std::max(size * std::min<std::size_t>(max_pct, 100) / 100,
                                            std::min(size, min_count)));
        if (want == 0) return {};
        pool.reserve(new_count_ + tried_count_);
        for (const auto& e : entries_) {
            if (e.in_use && !is_terrible(e, now))
                pool.emplace_back(e.info.address, e.info.last_seen);
        }
        std::shuffle(pool.begin(), pool.end(), rng_);
    }
    std::vector<Timed> out;
    for (auto& item : pool) {
        if (out.size() >= want) break;
        if (!accept || accept(item.first)) out.push_back(std::move(item));
    }
    return out;
}

std::vector<AddrInfo> AddrMan::list() const {
    util::LockGuard lock(mutex_);
    std::vector<AddrInfo> out;
    out.reserve(index_.size());
    for (const auto& [key, id] : index_) out.push_back(entries_[static_cast<std::size_t>(id)].info);
    return out;
}

std::optional<AddrInfo> AddrMan::find(const NetAddress& address) const {
    util::LockGuard lock(mutex_);
    const std::int32_t id = find_id(address);
    if (id == kEmpty) return std::nullopt;
    return entries_[static_cast<std::size_t>(id)].info;
}

std::size_t AddrMan::size() const {
    util::LockGuard lock(mutex_);
    return new_count_ + tried_count_;
}

std::size_t AddrMan::new_count() const {
    util::LockGuard lock(mutex_);
    return new_count_;
}

std::size_t AddrMan::tried_count() const {
    util::LockGuard lock(mutex_);
    return tried_count_;
}

std::size_t AddrMan::memory_usage() const {
    // A std::map node: the value, three pointers and a colour, and the allocator's header.
    constexpr std::size_t kMapNode =
        sizeof(std::pair<const std::string, std::int32_t>) + 4 * sizeof(void*) + 16;
    util::LockGuard lock(mutex_);
    std::size_t total = sizeof(*this);
    total += entries_.capacity() * sizeof(Entry);
    total += (free_ids_.capacity() + new_table_.capacity() + tried_table_.capacity()) *
             sizeof(std::int32_t);
    total += (new_fill_.capacity() + tried_fill_.capacity()) * sizeof(std::uint16_t);
    for (const auto& e : entries_) {
        if (!e.in_use) continue;
        total += heap_bytes(e.info.address.host) + heap_bytes(e.info.source) +
                 heap_bytes(e.source_group);
    }
    for (const auto& [key, id] : index_) total += kMapNode + heap_bytes(key);
    return total;
}

std::size_t AddrMan::new_bucket(const NetAddress& address, const Source& source) const {
    const std::string source_group = source_group_of(source);
    util::LockGuard lock(mutex_);
    return new_bucket_of(address.group(), source_group);
}

std::size_t AddrMan::tried_bucket(const NetAddress& address) const {
    util::LockGuard lock(mutex_);
    return tried_bucket_of(address);
}

util::Bytes AddrMan::serialize() const {
    util::Bytes out;
    core::Writer w(out);
    util::LockGuard lock(mutex_);
    w.bytes(kMagic);
    w.u8(kVersion);
    w.bytes(key_);
    w.u32(static_cast<std::uint32_t>(new_count_ + tried_count_));
    for (const auto& [key, id] : index_) {
        const Entry& e = entries_[static_cast<std::size_t>(id)];
        const AddrInfo& i = e.info;
        w.u8(i.tried ? kFlagTried : 0);
        detail::write_str(w, i.address.host);
        w.u16(i.address.port);
        w.u8(i.address.transports);
        w.i64(i.last_seen);
        w.i64(i.last_try);
        w.i64(i.last_success);
        w.i64(e.last_count_attempt);
        w.u32(i.attempts);
        detail::write_str(w, i.source);
        detail::write_str(w, e.source_group);
    }
    detail::append_checksum(out);
    return out;
}

util::Result<std::size_t> AddrMan::deserialize(util::ByteSpan bytes) {
    auto body = detail::strip_checksum(bytes);
    if (!body) return corrupt(body.error().message);
    core::Reader r(*body);
    std::array<std::uint8_t, 4> magic{};
    std::uint8_t version = 0;
    std::array<std::uint8_t, 32> key{};
    std::uint32_t count = 0;
    if (!r.array(magic) || magic != kMagic) return corrupt("bad magic");
    if (!r.u8(version) || version != kVersion) {
        return corrupt("unknown version " + std::to_string(version));
    }
    if (!r.array(key) || !r.u32(count)) return corrupt("header cut short");
    // Nothing is allocated for `count` until the bytes for that many entries are there.
    if (count > capacity() || count > body->size() / kMinEntryBytes) {
        return corrupt(std::to_string(count) + " entries: more than the file holds or the " +
                       std::to_string(capacity()) + " the book can");
    }

    struct Loaded {
        AddrInfo info;
        std::string source_group;
        std::int64_t last_count_attempt = 0;
    };
    std::vector<Loaded> loaded(count);
    std::set<std::string> seen;
    for (std::uint32_t n = 0; n < count; ++n) {
        Loaded& l = loaded[n];
        AddrInfo& i = l.info;
        std::uint8_t flags = 0;
        const bool read = r.u8(flags) && detail::read_str(r, i.address.host, kMaxHostLength) &&
                          r.u16(i.address.port) && r.u8(i.address.transports) &&
                          r.i64(i.last_seen) && r.i64(i.last_try) && r.i64(i.last_success) &&
                          r.i64(l.last_count_attempt) && r.u32(i.attempts) &&
                          detail::read_str(r, i.source, kMaxSourceLabel) &&
                          detail::read_str(r, l.source_group, kMaxGroupLength);
        const std::string where = "entry " + std::to_string(n);
        if (!read) return corrupt(where + " cut short");
        if ((flags & ~kFlagTried) != 0) return corrupt(where + ": unknown flags");
        i.tried = (flags & kFlagTried) != 0;
        const auto parsed = NetAddress::parse(i.address.host, i.address.port, i.address.transports);
        if (!parsed || *parsed != i.address) return corrupt(where + ": bad address");
        if (i.last_seen < 0 || i.last_try < 0 || i.last_success < 0 || l.last_count_attempt < 0) {
            return corrupt(where + ": negative time");
        }
        if (l.source_group.empty()) return corrupt(where + ": empty source group");
        if (!seen.insert(i.address.host_port()).second) return corrupt(where + ": duplicate");
    }
    if (!r.at_end()) return corrupt("trailing bytes");

    std::size_t dropped = 0;
    {
        util::LockGuard lock(mutex_);
        clear();
        key_ = key;
        // Tried first, as Core does: they earned their place, new ones take what is left.
        for (const bool tried : {true, false}) {
            for (auto& l : loaded) {
                if (l.info.tried != tried) continue;
                const NetAddress& a = l.info.address;
                const std::uint32_t bucket =
                    tried ? tried_bucket_of(a) : new_bucket_of(a.group(), l.source_group);
                const std::uint32_t slot = slot_of(tried, bucket, a);
                if (cell(tried, bucket, slot) != kEmpty) {
                    ++dropped;
                    continue;
                }
                insert(std::move(l.info), std::move(l.source_group), l.last_count_attempt, bucket,
                       slot);
            }
        }
    }
    if (dropped != 0) {
        spdlog::debug("addrman: {} of {} stored addresses collided and were dropped", dropped,
                      count);
    }
    return count - dropped;
}

util::Result<void> AddrMan::save(const std::filesystem::path& path) const {
    util::LockGuard save_lock(save_mutex_);
    const util::Bytes bytes = serialize();
    return util::write_file_atomic(path, bytes);
}

util::Result<std::size_t> AddrMan::load(const std::filesystem::path& path) {
    // The largest file a book of this capacity writes.
    const std::size_t limit = 4 + 1 + 32 + 4 + capacity() * kMaxEntryBytes + 32;
    auto bytes = util::read_file(path, limit);
    if (!bytes) {
        if (bytes.error().code == util::Errc::kNotFound) return std::size_t{0};
        return util::Unexpected(std::move(bytes).error());
    }
    return deserialize(*bytes);
}

}  // namespace peerchain::net::addrman
