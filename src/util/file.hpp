// Small files written whole and atomically: the API cookie, node.json, the wallet and the
// pool's snapshot. A reader sees the old file or the new one, never a mix, and a crash at
// any point leaves at most a stray `<path>.tmp` behind. Such a file is read back whole,
// with a bound on its size.
//
// Thread-safety: functions of the file system; two writers of one path must not run at
// once (their tmp files would collide). Reads may run from any thread.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>

#include "util/bytes.hpp"
#include "util/result.hpp"

namespace peerchain::util {

enum class FileWrite {
    kReplace,     // rename over what is there
    kCreateOnly,  // link into place; fail if the path exists (never replaces a file)
};

// Writes `bytes` to `path` through `path`.tmp: a new file born with `mode` (a leftover tmp
// file is removed first; symlinks are not followed), written, fsynced, then renamed or
// linked into place, and the directory fsynced so that the name is durable too. On failure
// the tmp file is removed, `path` is as it was, and the error is kIo with the system's
// reason (kInvalidArgument for kCreateOnly when `path` exists).
Result<void> write_file_atomic(const std::filesystem::path& path, ByteSpan bytes,
                               FileWrite how = FileWrite::kReplace, mode_t mode = 0600);

// The whole of the regular file at `path`, if it holds at most `max_bytes`. Like the
// writer, it does not follow a symlink at `path`. kNotFound when nothing is there,
// kCorruption when the file is larger than `max_bytes` or is not a regular file (a
// symlink, a directory, a FIFO), kIo with the system's reason otherwise. Nothing is
// allocated before the size is checked.
Result<Bytes> read_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace peerchain::util
