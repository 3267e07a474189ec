#include "net/wire/allocation_probe.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<bool> g_armed{false};
std::atomic<std::size_t> g_largest{0};
}  // namespace

// Kept in its own file: defined beside the tests, GCC inlines these and warns about
// malloc/free pairs it takes for mismatched.
void* operator new(std::size_t size) {
    if (g_armed.load(std::memory_order_relaxed)) {
        std::size_t seen = g_largest.load(std::memory_order_relaxed);
        while (size > seen && !g_largest.compare_exchange_weak(seen, size)) {
        }
    }
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace peerchain::net::wire::testing {

AllocationProbe::AllocationProbe() {
    g_largest = 0;
    g_armed = true;
}
AllocationProbe::~AllocationProbe() { g_armed = false; }
std::size_t AllocationProbe::largest() const { return g_largest.load(); }

}  // namespace peerchain::net::wire::testing
