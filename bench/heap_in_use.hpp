// The bytes the process's allocator has handed out and not got back: what the memory
// benchmarks weigh a structure by (its growth across building it).
#pragma once

#include <malloc.h>

#include <cstddef>

namespace peerchain::bench {

inline std::size_t heap_in_use() {
    const struct mallinfo2 m = mallinfo2();
    if (m.uordblks != 0) return m.uordblks + m.hblkhd;  // glibc: small blocks, large mapped
        // tcmalloc (the build's allocator unless sanitizers bring theirs) answers only the older
        // call, whose int fields hold up to 2 GiB: enough for the sizes measured here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    const struct mallinfo old = mallinfo();
#pragma GCC diagnostic pop
    return static_cast<std::size_t>(static_cast<unsigned>(old.uordblks)) +
           static_cast<std::size_t>(static_cast<unsigned>(old.hblkhd));
}

}  // namespace peerchain::bench
