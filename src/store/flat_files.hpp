// FlatFiles: records appended to numbered files in one directory (blk00000.dat,
// blk00001.dat, ...) and read back by position, as Bitcoin Core keeps block bodies. A record
// is written once and never changed, so the files are only ever appended to; what refers to
// a record (the chain's block index, in the Database) stores its FlatPos.
//
// On disk each record is framed: magic:4 size:u32 record:size. The position names the
// record's first byte, and a read checks the frame before it, so a position that points
// at anything else (a damaged index entry, a file cut short) reads as kCorruption, never as
// another record's bytes.
//
// Durability: append() gathers records in memory (up to kBufferBytes; reads see them);
// flush() writes them with one write(2), after which they survive the process being killed
// (kill -9); sync() flushes and makes every record appended so far survive a power loss
// too (fdatasync of the files written since the last sync, and of the directory when a
// file was created). Whoever stores a position flushes before that write, and syncs the
// files before any synced write that must not outlive them. One write(2) for many small
// records instead of one each: during a sync a block's body is about 200 bytes.
//
// After a crash the newest file may end in records nobody refers to (their positions were
// still in memory) or in part of one: appending goes on after them. They cost disk space
// and nothing else.
//
// Ownership: owns its file descriptors.
// Thread-safety: every member may be called from any thread; appends are serialized.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "util/bytes.hpp"
#include "util/result.hpp"
#include "util/sync.hpp"
#include "util/thread_annotations.hpp"

namespace peerchain::store {

// Where a record lives: its file's number, the offset of its first byte, its size. A
// record is never empty, so size 0 means "no position".
struct FlatPos {
    std::uint32_t file = 0;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;

    bool null() const noexcept { return size == 0; }
    friend bool operator==(const FlatPos&, const FlatPos&) = default;
};

class FlatFiles {
  public:
    struct Options {
        // A file takes records until the next would pass this size (a record larger than
        // a whole file is refused).
        std::uint32_t max_file_bytes = 128u << 20;
        std::array<std::uint8_t, 4> magic{'p', 'c', 'b', 'k'};
        // Files are named <prefix><number, 5 digits>.dat.
        std::string prefix = "blk";
    };
    static constexpr std::size_t kFrameSize = 8;  // magic:4 size:u32
    static constexpr std::size_t kBufferBytes = 1u << 20;
    // A read of a record smaller than half of this reads this much from where its frame
    // starts, and each thread keeps what it read for the next reads: serving a sync,
    // which asks for blocks in the order they were written, then takes one system call
    // for many blocks instead of one each (issue 10). Records never change once written,
    // so what a thread kept stays true.
    static constexpr std::size_t kReadAheadBytes = 256u << 10;

    // Opens the files in `dir`, creating the directory if need be; appending goes on at
    // the end of the highest-numbered file. kIo when the directory cannot be made or read.
    static util::Result<std::unique_ptr<FlatFiles>> open(const std::filesystem::path& dir,
                                                         Options options);
    ~FlatFiles();
    FlatFiles(const FlatFiles&) = delete;
    FlatFiles& operator=(const FlatFiles&) = delete;

    // Appends `record` (not empty) in a new frame, in memory until the next flush (which
    // happens here when the records gathered pass kBufferBytes or fill the file). kIo when
    // that write fails, kInvalidArgument for an empty record or one larger than a file.
    util::Result<FlatPos> append(util::ByteSpan record);
    // Writes the records appended since the last flush. kIo when the write fails (they
    // stay in memory, and the next flush tries again).
    util::Result<void> flush();
    // The record at `pos`. kNotFound when its file does not exist, kCorruption when the
    // frame before it is not there or names another size (or the file is shorter), kIo
    // when the read fails.
    util::Result<util::Bytes> read(FlatPos pos) const;
    // Makes every record appended so far durable (see above). kIo when a sync fails.
    // Appends and reads go on while it waits for the disk: only one sync runs at a time,
    // and the lock that appends take is held only to flush and to see what to sync.
    util::Result<void> sync() EXCLUDES(mutex_, sync_mutex_);

    // Where the records of file number `file` are (for messages and tests).
    std::filesystem::path file_path(std::uint32_t file) const;

  private:
    FlatFiles(std::filesystem::path dir, Options options);
    // `size` bytes at `offset` of `file` (descriptor `fd`), from this thread's read-ahead,
    // which is filled from `offset` when it does not hold them: fewer when the file ends
    // first. -1 with errno when a read fails. The bytes stay valid until this thread's next
    // read.
    long read_ahead(int fd, std::uint32_t file, std::uint64_t offset, std::size_t size,
                    const std::uint8_t** out) const;
    // The descriptor of `file`, opened on first use; -1 with errno set when it fails.
    int fd_locked(std::uint32_t file, bool create) const REQUIRES(mutex_);
    util::Result<void> flush_locked() REQUIRES(mutex_);

    const std::filesystem::path dir_;
    const Options options_;
    const std::uint64_t id_;  // tells this thread's read-ahead which FlatFiles it holds
    util::Mutex sync_mutex_;  // held through a sync's fdatasyncs; taken before mutex_
    mutable util::Mutex mutex_;
    mutable std::vector<int> fds_ GUARDED_BY(mutex_);  // by file number; -1: not open
    std::uint32_t current_ GUARDED_BY(mutex_) = 0;     // the file appended to
    std::uint64_t end_ GUARDED_BY(mutex_) = 0;         // its size, with buffer_
    util::Bytes buffer_ GUARDED_BY(mutex_);  // framed records of current_ not yet written,
                                             // which end at end_
    std::vector<std::uint32_t> unsynced_ GUARDED_BY(mutex_);  // files written since sync()
    bool dir_unsynced_ GUARDED_BY(mutex_) = false;            // a file was created
};

}  // namespace peerchain::store
