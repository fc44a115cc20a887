#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "aws/clock.h"
#include "tasker/error.h"

namespace tasker::aws {

/// How often and how patiently a failed call is repeated.
struct RetryPolicy {
  /// Attempts in all, the first included; 1 means no retry.
  int max_attempts = 5;
  /// The backoff ceiling of the first retry; it doubles each retry up to max_delay.
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{5000};
};

/// Capped exponential backoff with full jitter (AWS's recommendation): the wait before retry n
/// (0-based) is uniform in [0, min(max_delay, base_delay * 2^n)], so many clients that failed
/// together do not retry together.
class Backoff {
 public:
  /// `random` returns a number in [0, 1); by default a per-thread generator.
  explicit Backoff(RetryPolicy policy, std::function<double()> random = {});

  /// The upper bound of the wait before retry `retry`.
  std::chrono::milliseconds ceiling(int retry) const;

  /// The wait before retry `retry`.
  std::chrono::milliseconds delay(int retry) const;

  const RetryPolicy& policy() const { return policy_; }

 private:
  RetryPolicy policy_;
  std::function<double()> random_;
};

/// Calls `attempt` until it succeeds, fails with an error that is not transient
/// (Error::transient()), or has been tried policy.max_attempts times; sleeps through `clock`
/// between attempts. The last error is returned, with the attempt count when there were several.
template <class T>
Expected<T> with_retries(const Backoff& backoff, Clock& clock,
                         const std::function<Expected<T>()>& attempt) {
  const int attempts = backoff.policy().max_attempts < 1 ? 1 : backoff.policy().max_attempts;
  for (int n = 0;; ++n) {
    Expected<T> result = attempt();
    if (result.ok() || !result.error().transient()) return result;
    if (n + 1 >= attempts) {
      if (attempts == 1) return result;
      Error error = result.error();
      error.message += " (gave up after " + std::to_string(attempts) + " attempts)";
      return error;
    }
    clock.sleep_for(backoff.delay(n));
  }
}

}  // namespace tasker::aws
