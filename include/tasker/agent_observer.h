#pragma once

#include <cstdint>

#include "tasker/error.h"
#include "tasker/result.h"

namespace tasker {

/// Told what an agent does as it happens: for its Prometheus metrics (serve_agent_metrics() in
/// tasker/agent_metrics.h) or a program's own accounting. The agent calls it from its poller, slot
/// and publisher threads at once, so an implementation guards its own state and returns quickly.
/// Every method does nothing unless overridden.
class AgentObserver {
 public:
  virtual ~AgentObserver() = default;

  /// A message was taken from the tasks queue, whether or not it turns out to be a runnable task.
  virtual void on_received() {}

  /// A message is answered: `result` (of a task that ran, or the failure that answers one that
  /// may not run) now waits to be sent. Once per answer; a message handed back is not answered.
  virtual void on_answered(const TaskResult& result) {}

  /// A task asked for what the agent's policy forbids; it is also answered as failed.
  virtual void on_refused() {}

  /// A message's signature was missing, malformed or wrong while the agent requires signed tasks;
  /// it is also answered as failed.
  virtual void on_unauthenticated() {}

  /// The number of tasks running now.
  virtual void on_running(std::uint64_t running) {}

  /// A queue call failed (it is retried, or its message comes back later); `error` says why.
  virtual void on_queue_error(const Error& error) {}

  /// A receive call on the tasks queue answered, with tasks or without: the agent is alive and
  /// reaches its queue (a dashboard shows when each agent last did).
  virtual void on_polled() {}
};

}  // namespace tasker
