// Database: the key-value store that holds chain state (block index, blocks, undo data,
// coins, metadata, peers), one key prefix per kind. Keys and values are byte strings,
// ordered by unsigned bytewise comparison. open_leveldb() (store/leveldb_database.hpp)
// gives the LevelDB implementation; nothing outside store/ sees LevelDB itself.
//
// Ownership: whoever opens a Database owns it (node/); other modules borrow a reference.
// An Iterator borrows its Database and must be destroyed before it.
//
// Thread-safety: get, exists, new_iterator, approximate_size and stats may run on any
// number of threads at once, alongside one thread that calls write or compact_range.
// (LevelDB allows concurrent writers too, but the chain has one validation strand and
// relies on nothing more.) An Iterator is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "store/write_batch.hpp"
#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::store {

// A cursor over the keys of a consistent snapshot, taken when the iterator was created:
// later writes are not seen. An iterator made with a prefix sees only keys that start with
// that prefix and becomes invalid past the last of them.
class Iterator {
  public:
    virtual ~Iterator() = default;

    // Moves to the first key >= `key` (within the prefix, if any).
    virtual void seek(util::ByteSpan key) = 0;
    // Moves to the first key (within the prefix, if any).
    virtual void seek_to_first() = 0;
    // True while positioned at a key; false past the end or after a read error.
    virtual bool valid() const = 0;
    // Moves to the next key. Assumes valid().
    virtual void next() = 0;
    // The current key and value. Assume valid(); the spans stay valid until the iterator
    // moves or is destroyed.
    virtual util::ByteSpan key() const = 0;
    virtual util::ByteSpan value() const = 0;
    // Whether the scan met a read error (kIo or kCorruption). Check it once valid() turns
    // false: the end of the keys and a failed read both end a scan.
    virtual util::Result<void> status() const = 0;
};

class Database {
  public:
    virtual ~Database() = default;

    // The value stored under `key`, or an empty optional when the key is absent. Fails
    // with kIo or kCorruption, carrying the storage engine's message, when the read fails.
    virtual util::Result<std::optional<util::Bytes>> get(util::ByteSpan key) const = 0;

    // Whether `key` is present. Fails as get() does.
    virtual util::Result<bool> exists(util::ByteSpan key) const = 0;

    // Applies every operation of `batch` atomically: after a crash at any instant a reader
    // sees all of them or none. Fails with kIo or kCorruption; then nothing was applied.
    //
    // Durability: a write that returned survives the process being killed (even with
    // kill -9), with or without sync, because LevelDB appends the batch to its log with
    // write(2) before returning, and the kernel keeps that data once the call is done.
    // Only a power loss or kernel crash can drop unsynced writes, and then only the newest
    // ones, never part of a batch. So writes default to sync=false, which costs no fsync;
    // a caller that needs a durable point (the chain's coins-tip flush) passes sync=true.
    virtual util::Result<void> write(const WriteBatch& batch, bool sync = false) = 0;

    // One-operation writes, for callers with a single key to change.
    util::Result<void> put(util::ByteSpan key, util::ByteSpan value, bool sync = false);
    util::Result<void> erase(util::ByteSpan key, bool sync = false);

    // A new iterator over the keys that start with `prefix` (every key when it is empty),
    // not yet positioned: call seek or seek_to_first first.
    virtual std::unique_ptr<Iterator> new_iterator(util::ByteSpan prefix = {}) const = 0;

    // About how many bytes the keys in [begin, end) use on disk. An empty `end` means no
    // upper bound. Data still in memory is not counted.
    virtual std::uint64_t approximate_size(util::ByteSpan begin, util::ByteSpan end) const = 0;

    // Human-readable statistics of the storage engine, for logs and the status API.
    virtual std::string stats() const = 0;

    // Rewrites the keys in [begin, end] to reclaim space from erased and overwritten
    // entries. An empty `end` means no upper bound. Slow; blocks until done.
    virtual void compact_range(util::ByteSpan begin, util::ByteSpan end) = 0;
};

}  // namespace peerchain::store
