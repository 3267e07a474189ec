#include "store/write_batch.hpp"

#include "util/assert.hpp"

namespace peerchain::store {

namespace {

// LevelDB frames each record with a tag byte and two varint lengths, and each batch with a
// 12-byte header (see leveldb db/write_batch.cc).
constexpr std::size_t kBatchHeaderBytes = 12;
constexpr std::size_t kOpFramingBytes = 3;

}  // namespace

void WriteBatch::put(util::ByteSpan key, util::ByteSpan value) {
    ops_.push_back({Kind::kPut, data_.size(), key.size(), value.size()});
    data_.insert(data_.end(), key.begin(), key.end());
    data_.insert(data_.end(), value.begin(), value.end());
}

void WriteBatch::erase(util::ByteSpan key) {
    ops_.push_back({Kind::kErase, data_.size(), key.size(), 0});
    data_.insert(data_.end(), key.begin(), key.end());
}

void WriteBatch::append(const WriteBatch& other) {
    const std::size_t base = data_.size();
    data_.insert(data_.end(), other.data_.begin(), other.data_.end());
    ops_.reserve(ops_.size() + other.ops_.size());
    for (Entry e : other.ops_) {
        e.offset += base;
        ops_.push_back(e);
    }
}

void WriteBatch::reserve(std::size_t bytes, std::size_t ops) {
    data_.reserve(bytes);
    ops_.reserve(ops);
}

void WriteBatch::clear() noexcept {
    data_.clear();
    ops_.clear();
}

WriteBatch::Op WriteBatch::op(std::size_t i) const {
    NODE_ASSERT(i < ops_.size());
    const Entry& e = ops_[i];
    const util::ByteSpan all(data_);
    return {e.kind, all.subspan(e.offset, e.key_size),
            all.subspan(e.offset + e.key_size, e.value_size)};
}

std::size_t WriteBatch::approximate_size() const noexcept {
    return kBatchHeaderBytes + data_.size() + kOpFramingBytes * ops_.size();
}

}  // namespace peerchain::store
