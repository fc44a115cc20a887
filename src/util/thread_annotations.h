#pragma once

// Clang's thread-safety analysis (-Wthread-safety): fields say which mutex guards them and
// functions say which they need, so a lock mistake fails the build instead of a run. Other
// compilers see nothing. The names follow Clang's documentation and leveldb's port/.

#if defined(__clang__)
#define TASKER_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TASKER_THREAD_ANNOTATION(x)
#endif

/// A type that is a lock (Mutex).
#define CAPABILITY(name) TASKER_THREAD_ANNOTATION(capability(name))
/// An RAII type that holds a lock for its lifetime (MutexLock).
#define SCOPED_CAPABILITY TASKER_THREAD_ANNOTATION(scoped_lockable)
/// A field read or written only with the lock held.
#define GUARDED_BY(mu) TASKER_THREAD_ANNOTATION(guarded_by(mu))
/// A pointer whose target is read or written only with the lock held.
#define PT_GUARDED_BY(mu) TASKER_THREAD_ANNOTATION(pt_guarded_by(mu))
/// A function called only with the lock held.
#define REQUIRES(...) TASKER_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
/// A function called only without the lock (it takes it itself).
#define EXCLUDES(...) TASKER_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
/// A function that takes the lock and returns holding it.
#define ACQUIRE(...) TASKER_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
/// A function that releases a lock held on entry.
#define RELEASE(...) TASKER_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
/// A function that tells the analysis the lock is held (checked at run time elsewhere).
#define ASSERT_CAPABILITY(x) TASKER_THREAD_ANNOTATION(assert_capability(x))
/// A function that returns a reference to the lock it is given.
#define RETURN_CAPABILITY(x) TASKER_THREAD_ANNOTATION(lock_returned(x))
/// Opts a function out of the analysis; say why beside it.
#define NO_THREAD_SAFETY_ANALYSIS TASKER_THREAD_ANNOTATION(no_thread_safety_analysis)
