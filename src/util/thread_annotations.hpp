// Clang thread-safety annotations (-Wthread-safety); empty elsewhere. See STYLE.md.
#pragma once

#if defined(__clang__)
#define NODE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define NODE_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) NODE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) NODE_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) NODE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) NODE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
