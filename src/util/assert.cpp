#include "util/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace peerchain::util {

void assertion_failed(const char* expr, const char* file, int line, const char* func) noexcept {
    std::fprintf(stderr, "assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
    std::fflush(stderr);
    std::abort();
}

}  // namespace peerchain::util
