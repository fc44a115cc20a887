#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "util/thread_annotations.h"

namespace tasker {

/// A std::mutex that Clang's thread-safety analysis knows as a lock, so fields can say
/// `GUARDED_BY(mu_)` and the build checks every access.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mutex_.lock(); }
  void unlock() RELEASE() { mutex_.unlock(); }
  /// Tells the analysis the caller holds the lock, where it cannot see it (a callback run under
  /// the lock by code it does not look into).
  void assert_held() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mutex_;
};

/// Holds a Mutex for its scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.lock(); }
  ~MutexLock() RELEASE() { mutex_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mutex_;
};

/// A condition variable waited on with a Mutex held. There are no predicate overloads: a lambda
/// is a function of its own to the analysis, which cannot see that it runs under the lock, so
/// callers loop (`while (!ready_) changed_.wait(mu_);`) where the analysis checks the condition.
class CondVar {
 public:
  using Clock = std::chrono::steady_clock;

  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  /// Releases `mutex`, waits for a notification (or a spurious wake-up), takes it again.
  void wait(Mutex& mutex) REQUIRES(mutex) {
    std::unique_lock<std::mutex> lock(mutex.mutex_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }

  /// As wait(), up to `deadline`; false when the deadline passed.
  bool wait_until(Mutex& mutex, Clock::time_point deadline) REQUIRES(mutex) {
    std::unique_lock<std::mutex> lock(mutex.mutex_, std::adopt_lock);
    const bool notified = cv_.wait_until(lock, deadline) == std::cv_status::no_timeout;
    lock.release();
    return notified;
  }

  /// As wait(), up to `duration`; false when it passed.
  template <class Rep, class Period>
  bool wait_for(Mutex& mutex, std::chrono::duration<Rep, Period> duration) REQUIRES(mutex) {
    // Capped, so a "for ever" duration cannot overflow the clock.
    constexpr std::chrono::hours kLongest{24 * 365};
    const auto wait = duration > kLongest ? Clock::duration(kLongest)
                                          : std::chrono::duration_cast<Clock::duration>(duration);
    return wait_until(mutex, Clock::now() + wait);
  }

  void notify_one() { cv_.notify_one(); }
  void notify_all() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace tasker
