// WriteBatch: an ordered list of put and erase operations that Database::write applies
// atomically. It is our own type so that callers never see the storage engine.
//
// Ownership: the batch owns copies of every key and value given to it; the spans returned
// by op() point into the batch and stay valid until the batch is changed or destroyed.
// Thread-safety: a plain value type; not safe to change from two threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/bytes.hpp"

namespace peerchain::store {

class WriteBatch {
  public:
    enum class Kind : std::uint8_t { kPut, kErase };

    // One operation, viewed in place. `value` is empty for kErase.
    struct Op {
        Kind kind;
        util::ByteSpan key;
        util::ByteSpan value;
    };

    // Later operations on the same key win, as if applied one after the other.
    void put(util::ByteSpan key, util::ByteSpan value);
    void erase(util::ByteSpan key);
    // Adds `other`'s operations after this batch's, in their order (one copy of the bytes).
    void append(const WriteBatch& other);
    void clear() noexcept;
    // Makes room for `bytes` bytes of keys and values and `ops` operations in all, so that a
    // batch whose size is known ahead grows without copying itself again.
    void reserve(std::size_t bytes, std::size_t ops);

    bool empty() const noexcept { return ops_.empty(); }
    std::size_t size() const noexcept { return ops_.size(); }
    // The bytes of keys and values the batch holds.
    std::size_t data_size() const noexcept { return data_.size(); }
    // The i-th operation in insertion order. Assumes i < size().
    Op op(std::size_t i) const;

    // About the number of bytes the batch adds to the storage engine's log: keys, values
    // and a few bytes of framing per operation. Callers use it to decide when to flush.
    std::size_t approximate_size() const noexcept;

  private:
    struct Entry {
        Kind kind;
        std::size_t offset;  // where the key starts in data_; the value follows it
        std::size_t key_size;
        std::size_t value_size;
    };

    util::Bytes data_;
    std::vector<Entry> ops_;
};

}  // namespace peerchain::store
