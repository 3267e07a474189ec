#include "store/leveldb_database.hpp"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/slice.h>
#include <leveldb/status.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "util/assert.hpp"

namespace peerchain::store {

namespace {

// Table files of 4 MiB, not Bitcoin Core's 32 MiB: our one database mixes keys written in
// order (block-index records, by height) with keys written at random (coins). A file big
// enough to hold both spans the whole key range, so every compaction into the next level
// rewrote all of it, index records included: a 1,000,000-block sync compacted 1.6 GB for
// 220 MB of records. Files of a few MiB mostly hold one kind, and a file of new index
// records overlaps nothing below and moves down without a rewrite: about 1 GB, and the sync
// 1.11x faster with 0.86x the CPU (docs/STORAGE.md, "LevelDB options"). 1,000 open files
// then cover a store of 4 GB.
constexpr std::size_t kMaxFileBytes = std::size_t{4} << 20;
constexpr int kBloomBitsPerKey = 10;

leveldb::Slice to_slice(util::ByteSpan s) {
    return {reinterpret_cast<const char*>(s.data()), s.size()};
}

util::ByteSpan to_span(const leveldb::Slice& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A failed read or write is kCorruption when LevelDB found damaged data and kIo otherwise,
// with LevelDB's text kept so that the log says what went wrong.
util::Unexpected to_error(const leveldb::Status& status, std::string_view what) {
    const auto code = status.IsCorruption() ? util::Errc::kCorruption : util::Errc::kIo;
    return util::Unexpected(code, std::string(what) + ": " + status.ToString());
}

bool starts_with(const leveldb::Slice& key, const util::Bytes& prefix) {
    return key.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(),
                      reinterpret_cast<const std::uint8_t*>(key.data()));
}

class LevelDbIterator final : public Iterator {
  public:
    LevelDbIterator(std::unique_ptr<leveldb::Iterator> it, util::ByteSpan prefix)
        : it_(std::move(it)), prefix_(prefix.begin(), prefix.end()) {}

    void seek(util::ByteSpan key) override {
        // A key that sorts before the prefix would land on keys outside it.
        if (std::ranges::lexicographical_compare(key, prefix_)) {
            it_->Seek(to_slice(prefix_));
        } else {
            it_->Seek(to_slice(key));
        }
    }
    void seek_to_first() override { it_->Seek(to_slice(prefix_)); }
    bool valid() const override { return it_->Valid() && starts_with(it_->key(), prefix_); }
    void next() override {
        NODE_ASSERT(it_->Valid());
        it_->Next();
    }
    util::ByteSpan key() const override {
        NODE_ASSERT(it_->Valid());
        return to_span(it_->key());
    }
    util::ByteSpan value() const override {
        NODE_ASSERT(it_->Valid());
        return to_span(it_->value());
    }
    util::Result<void> status() const override {
        const leveldb::Status s = it_->status();
        if (!s.ok()) return to_error(s, "iterator");
        return {};
    }

  private:
    std::unique_ptr<leveldb::Iterator> it_;
    util::Bytes prefix_;
};

class LevelDbDatabase final : public Database {
  public:
    LevelDbDatabase(std::unique_ptr<const leveldb::FilterPolicy> filter,
                    std::unique_ptr<leveldb::Cache> cache, std::unique_ptr<leveldb::DB> db)
        : filter_(std::move(filter)), cache_(std::move(cache)), db_(std::move(db)) {
        // Table blocks are checked against their CRC when read from disk, so a damaged
        // file is reported as kCorruption instead of being parsed.
        read_options_.verify_checksums = true;
    }

    util::Result<std::optional<util::Bytes>> get(util::ByteSpan key) const override {
        std::string value;
        const leveldb::Status s = db_->Get(read_options_, to_slice(key), &value);
        if (s.IsNotFound()) return std::optional<util::Bytes>();
        if (!s.ok()) return to_error(s, "read");
        return std::optional<util::Bytes>(util::Bytes(value.begin(), value.end()));
    }

    util::Result<bool> exists(util::ByteSpan key) const override {
        auto value = get(key);
        if (!value) return util::Unexpected(std::move(value).error());
        return value->has_value();
    }

    util::Result<void> write(const WriteBatch& batch, bool sync) override {
        // Reused by each writing thread: a sync batch of 1,000 blocks is a few hundred KB,
        // and a new buffer for each would grow through fresh pages every time (page faults
        // were a tenth of the chain thread's time in a sync). One larger than 8 MiB is let
        // go after its write.
        thread_local leveldb::WriteBatch lb;
        struct Reset {
            leveldb::WriteBatch& batch;
            ~Reset() {
                if (batch.ApproximateSize() > (std::size_t{8} << 20)) {
                    batch = leveldb::WriteBatch();
                } else {
                    batch.Clear();
                }
            }
        } reset{lb};
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const WriteBatch::Op op = batch.op(i);
            if (op.kind == WriteBatch::Kind::kPut) {
                lb.Put(to_slice(op.key), to_slice(op.value));
            } else {
                lb.Delete(to_slice(op.key));
            }
        }
        leveldb::WriteOptions options;
        options.sync = sync;
        const leveldb::Status s = db_->Write(options, &lb);
        if (!s.ok()) return to_error(s, "write");
        return {};
    }

    std::unique_ptr<Iterator> new_iterator(util::ByteSpan prefix) const override {
        return std::make_unique<LevelDbIterator>(
            std::unique_ptr<leveldb::Iterator>(db_->NewIterator(read_options_)), prefix);
    }

    std::uint64_t approximate_size(util::ByteSpan begin, util::ByteSpan end) const override {
        std::string limit(reinterpret_cast<const char*>(end.data()), end.size());
        if (end.empty()) {
            // No key sorts after every other, so bound the range just past the last key.
            std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(read_options_));
            it->SeekToLast();
            if (!it->Valid()) return 0;
            limit = it->key().ToString();
            limit.push_back('\0');
        }
        const leveldb::Range range(to_slice(begin), limit);
        std::uint64_t size = 0;
        db_->GetApproximateSizes(&range, 1, &size);
        return size;
    }

    std::string stats() const override {
        std::string out;
        if (!db_->GetProperty("leveldb.stats", &out)) return {};
        return out;
    }

    void compact_range(util::ByteSpan begin, util::ByteSpan end) override {
        const leveldb::Slice b = to_slice(begin);
        const leveldb::Slice e = to_slice(end);
        db_->CompactRange(begin.empty() ? nullptr : &b, end.empty() ? nullptr : &e);
    }

  private:
    // Declared before db_ so that they outlive it: LevelDB uses both until closed.
    std::unique_ptr<const leveldb::FilterPolicy> filter_;
    std::unique_ptr<leveldb::Cache> cache_;
    std::unique_ptr<leveldb::DB> db_;
    leveldb::ReadOptions read_options_;
};

}  // namespace

util::Result<std::unique_ptr<Database>> open_leveldb(const std::filesystem::path& dir,
                                                     const Options& options) {
    const std::string name = dir.string();
    std::error_code ec;
    const auto status = std::filesystem::status(dir, ec);
    if (std::filesystem::exists(status)) {
        if (!std::filesystem::is_directory(status)) {
            return util::Unexpected(util::Errc::kIo,
                                    "data directory " + name + " is not a directory");
        }
    } else if (!options.create_if_missing) {
        return util::Unexpected(util::Errc::kNotFound,
                                "data directory " + name + " does not exist");
    } else if (!std::filesystem::create_directories(dir, ec) && ec) {
        return util::Unexpected(util::Errc::kIo,
                                "cannot create data directory " + name + ": " + ec.message());
    }
    if (!options.create_if_missing && !std::filesystem::exists(dir / "CURRENT", ec)) {
        return util::Unexpected(util::Errc::kNotFound, "no database in " + name);
    }

    std::unique_ptr<const leveldb::FilterPolicy> filter(
        leveldb::NewBloomFilterPolicy(kBloomBitsPerKey));
    std::unique_ptr<leveldb::Cache> cache(leveldb::NewLRUCache(options.cache_bytes));

    leveldb::Options lo;
    lo.create_if_missing = options.create_if_missing;
    lo.block_cache = cache.get();
    lo.filter_policy = filter.get();
    lo.write_buffer_size = options.write_buffer_bytes;
    lo.max_open_files = options.max_open_files;
    lo.max_file_size = std::max(lo.max_file_size, kMaxFileBytes);
    // Off because it measured faster here on a UTXO-like workload; hashes and keys, most
    // of what we store, barely compress anyway.
    lo.compression = leveldb::kNoCompression;
    // Fail the open on damaged files instead of silently dropping what they held. A log
    // tail cut short by a crash is not damage: LevelDB drops that partial batch.
    lo.paranoid_checks = true;

    leveldb::DB* raw = nullptr;
    const leveldb::Status s = leveldb::DB::Open(lo, name, &raw);
    if (!s.ok()) {
        const std::string text = s.ToString();
        // LevelDB takes an fcntl lock on <dir>/LOCK and reports a failure as
        // "IO error: lock <dir>/LOCK: ...", both for another process and for a second open
        // in this one.
        if (s.IsIOError() && text.find("lock ") != std::string::npos) {
            return util::Unexpected(util::Errc::kIo,
                                    "data directory " + name +
                                        " is in use by another peerchain process? (" + text + ")");
        }
        return to_error(s, "cannot open database in " + name);
    }
    return std::unique_ptr<Database>(std::make_unique<LevelDbDatabase>(
        std::move(filter), std::move(cache), std::unique_ptr<leveldb::DB>(raw)));
}

}  // namespace peerchain::store
