#pragma once

#include <chrono>

namespace tasker::aws {

/// Wall-clock time and sleeping, behind a seam so tests of expiry and backoff neither wait nor
/// depend on the real date. Clock::real() is the system one.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual void sleep_for(std::chrono::milliseconds duration) = 0;

  /// The process-wide system clock.
  static Clock& real();
};

}  // namespace tasker::aws
