// Clang thread-safety annotations (-Wthread-safety); empty elsewhere. See STYLE.md.
//
// A capability is a lock type (util::Mutex in util/sync.hpp); data it protects is marked
// GUARDED_BY, and functions say which locks they need (REQUIRES), take (ACQUIRE), give back
// (RELEASE) or must not hold (EXCLUDES). See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html
// and bitcoin src/threadsafety.h.
#pragma once

#if defined(__clang__)
#define NODE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define NODE_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are locks; `x` names the kind in diagnostics ("mutex").
#define CAPABILITY(x) NODE_THREAD_ANNOTATION(capability(x))
// On a class: an RAII object that holds a lock from its constructor to its destructor.
#define SCOPED_CAPABILITY NODE_THREAD_ANNOTATION(scoped_lockable)

#define GUARDED_BY(x) NODE_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) NODE_THREAD_ANNOTATION(pt_guarded_by(x))

// Function annotations: the caller must hold, must not hold, or ends up holding or not.
#define REQUIRES(...) NODE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) NODE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) NODE_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) NODE_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
// Acquires the lock when the function returns `result` (true for try_lock).
#define TRY_ACQUIRE(...) NODE_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// Tells the analysis, without checking at run time, that the lock is held from here on.
#define ASSERT_CAPABILITY(x) NODE_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) NODE_THREAD_ANNOTATION(lock_returned(x))
// Turns the analysis off for one function; say why beside each use.
#define NO_THREAD_SAFETY_ANALYSIS NODE_THREAD_ANNOTATION(no_thread_safety_analysis)
