#pragma once

#include <algorithm>
#include <chrono>

namespace tasker {

/// The wait before retry number `attempt` (0-based): 100 ms doubling each time, at most `cap`.
inline std::chrono::milliseconds capped_backoff(int attempt, std::chrono::milliseconds cap) {
  return std::min(std::chrono::milliseconds(100) * (1 << std::clamp(attempt, 0, 8)), cap);
}

}  // namespace tasker
