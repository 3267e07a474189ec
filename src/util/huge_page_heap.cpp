// The heap in 2 MiB pages: tcmalloc's system allocator replaced by one that maps its
// memory 2 MiB-aligned and asks the kernel for transparent huge pages there
// (madvise(MADV_HUGEPAGE), which works whether the system's setting is "always" or
// "madvise"; "never" turns it off). Compiled into every program linked with tcmalloc
// (cmake/PeerchainDeps.cmake), util_tests among them.
//
// Why: a growing heap is faulted in a page at a time, and a page fault is not cheap. On the
// 2-core machine of docs/BENCHMARKS.md one costs 12 us, and a fresh node syncing 10,000
// blocks faulted 6,000 times, most of it on the chain executor (the sync batch, the header
// tree, tcmalloc carving new spans). With 2 MiB pages the kernel faults 512 times less often.
//
// tcmalloc never gives memory back to its system allocator (it returns pages to the kernel
// with madvise(MADV_DONTNEED), which works on these pages too), so a bump allocator over
// reserved regions is enough. tcmalloc calls Alloc under its own lock.
#include <gperftools/malloc_extension.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
// Address space reserved at a time: only what tcmalloc hands out is ever touched.
constexpr std::uintptr_t kRegion = std::uintptr_t{64} << 20;

constexpr std::uintptr_t round_up(std::uintptr_t n, std::uintptr_t to) {
    return (n + to - 1) / to * to;
}

class HugePageAllocator final : public SysAllocator {
  public:
    explicit HugePageAllocator(SysAllocator* fallback) : fallback_(fallback) {}

    void* Alloc(std::size_t size, std::size_t* actual_size, std::size_t alignment) override {
        const std::uintptr_t align = std::max<std::uintptr_t>(alignment, 4096);
        const std::uintptr_t bytes = round_up(size, 4096);
        std::uintptr_t at = round_up(next_, align);
        if (next_ == 0 || at + bytes > end_) {
            if (!map_region(std::max(kRegion, round_up(bytes + align, kHugePage)))) {
                return fallback_ ? fallback_->Alloc(size, actual_size, alignment) : nullptr;
            }
            at = round_up(next_, align);
        }
        next_ = at + bytes;
        if (actual_size) *actual_size = bytes;
        return reinterpret_cast<void*>(at);
    }

  private:
    // A new region of `bytes` (a multiple of 2 MiB) at a 2 MiB boundary; what is left of
    // the previous one stays unused address space, never touched.
    bool map_region(std::uintptr_t bytes) {
        // The first region goes just past the end of the data segment, where tcmalloc's own
        // heap began: its page map then already has the table for these addresses (one per
        // 2 GiB), instead of zeroing a new 2 MiB one in small pages. Only a hint.
        void* hint = next_ == 0
                         ? reinterpret_cast<void*>(round_up(
                               reinterpret_cast<std::uintptr_t>(::sbrk(0)) + kHugePage, kHugePage))
                         : nullptr;
        void* mapped = ::mmap(hint, bytes + kHugePage, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (mapped == MAP_FAILED) return false;
        const auto lo = reinterpret_cast<std::uintptr_t>(mapped);
        const std::uintptr_t start = round_up(lo, kHugePage);
        if (start > lo) ::munmap(mapped, start - lo);
        const std::uintptr_t end = start + bytes;
        if (lo + bytes + kHugePage > end)
            ::munmap(reinterpret_cast<void*>(end), lo + bytes + kHugePage - end);
        // A kernel without transparent huge pages says no; the region still works.
        (void)::madvise(reinterpret_cast<void*>(start), bytes, MADV_HUGEPAGE);
        next_ = start;
        end_ = end;
        return true;
    }

    SysAllocator* fallback_;
    std::uintptr_t next_ = 0;
    std::uintptr_t end_ = 0;
};

// Before main(), so before any thread: tcmalloc itself is already set up (the C++ runtime
// allocated during its own start), and from here on grows its heap through this allocator.
// It lives in static storage and is never destroyed: tcmalloc may grow its heap during exit.
struct Install {
    Install() {
        MallocExtension* ext = MallocExtension::instance();
        alignas(HugePageAllocator) static unsigned char storage[sizeof(HugePageAllocator)];
        ext->SetSystemAllocator(new (storage) HugePageAllocator(ext->GetSystemAllocator()));
    }
} install;

}  // namespace
