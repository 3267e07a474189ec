// open_leveldb: the Database implementation on LevelDB, one database per data directory.
// LevelDB's own headers stay in leveldb_database.cpp.
//
// Ownership: the caller owns the returned Database; destroying it closes the database and
// releases the directory's lock.
// Thread-safety: open_leveldb may be called from any thread; see database.hpp for the
// returned object.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "store/database.hpp"
#include "util/result.hpp"

namespace peerchain::store {

struct Options {
    // Create the directory (and its parents) and an empty database when missing.
    bool create_if_missing = true;
    // LRU cache of uncompressed table blocks, shared by all reads.
    std::size_t cache_bytes = std::size_t{64} << 20;
    // Size of the in-memory table (and log) before it is written out as a sorted file.
    // LevelDB may hold two of them at once while one is being written.
    std::size_t write_buffer_bytes = std::size_t{8} << 20;
    // Table files kept open by LevelDB's table cache.
    int max_open_files = 1000;
};

// Opens (or creates, per `options`) the database in `dir`. Fails with:
//  - kNotFound when `dir` is missing and create_if_missing is false;
//  - kIo when `dir` is not a directory, cannot be created, or is held open by another
//    process ("data directory ... is in use by another peerchain process?");
//  - kCorruption when LevelDB finds damaged files.
// The message always names `dir`.
util::Result<std::unique_ptr<Database>> open_leveldb(const std::filesystem::path& dir,
                                                     const Options& options);

}  // namespace peerchain::store
