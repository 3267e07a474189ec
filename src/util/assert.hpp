// NODE_ASSERT: an always-on check for programming errors. It aborts with the location.
// Never use it on data from peers, users or disk: those get a Result or ValidationResult.
#pragma once

namespace peerchain::util {
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line,
                                   const char* func) noexcept;
}  // namespace peerchain::util

#define NODE_ASSERT(expr)                                                             \
    do {                                                                              \
        if (!(expr)) [[unlikely]]                                                     \
            ::peerchain::util::assertion_failed(#expr, __FILE__, __LINE__, __func__); \
    } while (false)
