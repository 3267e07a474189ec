#include "net/wire/allocation_probe.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

// Under AddressSanitizer and ThreadSanitizer the runtime's operator new must stay (TSan's
// cannot even be replaced: the link fails on duplicate symbols, and replacing ASan's hides
// new/delete mismatches), so the probe listens to the sanitizer's allocation hook instead.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NODE_PROBE_SANITIZER_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NODE_PROBE_SANITIZER_HOOK 1
#endif
#endif

#ifdef NODE_PROBE_SANITIZER_HOOK
#include <sanitizer/allocator_interface.h>
#endif

namespace {
std::atomic<bool> g_armed{false};
std::atomic<std::size_t> g_largest{0};

void record(std::size_t size) noexcept {
    if (!g_armed.load(std::memory_order_relaxed)) return;
    std::size_t seen = g_largest.load(std::memory_order_relaxed);
    while (size > seen && !g_largest.compare_exchange_weak(seen, size)) {
    }
}

#ifdef NODE_PROBE_SANITIZER_HOOK
void on_malloc(const volatile void*, std::size_t size) { record(size); }
void on_free(const volatile void*) {}
#endif
}  // namespace

#ifndef NODE_PROBE_SANITIZER_HOOK
// Kept in its own file: defined beside the tests, GCC inlines these and warns about
// malloc/free pairs it takes for mismatched.
void* operator new(std::size_t size) {
    record(size);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace peerchain::net::wire::testing {

AllocationProbe::AllocationProbe() {
#ifdef NODE_PROBE_SANITIZER_HOOK
    [[maybe_unused]] static const int installed =
        __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif
    g_largest = 0;
    g_armed = true;
}
AllocationProbe::~AllocationProbe() { g_armed = false; }
std::size_t AllocationProbe::largest() const { return g_largest.load(); }

}  // namespace peerchain::net::wire::testing
