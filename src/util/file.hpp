// Small files written whole and atomically: the API cookie, node.json, the wallet and the
// pool's snapshot. A reader sees the old file or the new one, never a mix, and a crash at
// any point leaves at most a stray `<path>.tmp` behind.
//
// Thread-safety: functions of the file system; two writers of one path must not run at
// once (their tmp files would collide).
#pragma once

#include <sys/types.h>

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

}  // namespace peerchain::util
