#pragma once

#include "agent/stop_control.h"
#include "tasker/runtime.h"
#include "util/mutex.h"

namespace tasker::agent {

/// Whether the container runtime is known to be away: marked by a slot whose task failed for the
/// runtime (not for the task), cleared by the poller once the runtime answers again. While it is
/// away the poller takes no task, and a slot hands back any it is given.
class RuntimeHealth {
 public:
  RuntimeHealth(ContainerRuntime& runtime, StopControl& stop);
  RuntimeHealth(const RuntimeHealth&) = delete;
  RuntimeHealth& operator=(const RuntimeHealth&) = delete;

  /// Asks the runtime once, at start-up.
  void check() EXCLUDES(mu_);

  /// The runtime was found away and has not answered since.
  bool away() EXCLUDES(mu_);

  /// A task failed because the runtime is away.
  void mark_away() EXCLUDES(mu_);

  /// While the runtime is away, probes it with growing waits; returns once it answers, or on a
  /// stop.
  void wait_until_back() EXCLUDES(mu_);

 private:
  ContainerRuntime& runtime_;
  StopControl& stop_;
  Mutex mu_;
  bool away_ GUARDED_BY(mu_) = false;
};

}  // namespace tasker::agent
