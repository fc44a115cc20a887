#pragma once

#include <chrono>

#include "util/backoff.h"

namespace tasker::agent {

/// The longest wait between two tries of anything the agent retries: a receive, a result send,
/// a probe of the container runtime.
inline constexpr std::chrono::milliseconds kLongestRetryWait{30000};

/// The wait before retry number `attempt` (0-based) of anything the agent retries.
inline std::chrono::milliseconds retry_wait(int attempt) {
  return capped_backoff(attempt, kLongestRetryWait);
}

}  // namespace tasker::agent
