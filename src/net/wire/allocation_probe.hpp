// A test-only probe that records the largest single allocation made through operator new
// while it is armed, so that decoder tests can show that a hostile count is refused before
// memory is reserved for it. Linked into net_wire_tests only (it replaces the global
// operator new of that binary; under ASan or TSan it uses the sanitizer's malloc hook and
// then sees malloc too).
#pragma once

#include <cstddef>

namespace peerchain::net::wire::testing {

class AllocationProbe {
  public:
    AllocationProbe();   // arms the probe and clears the record
    ~AllocationProbe();  // disarms it
    AllocationProbe(const AllocationProbe&) = delete;
    AllocationProbe& operator=(const AllocationProbe&) = delete;

    // The largest allocation since construction, in bytes.
    std::size_t largest() const;
};

}  // namespace peerchain::net::wire::testing
