#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "agent/stop_control.h"
#include "tasker/agent.h"
#include "tasker/agent_observer.h"
#include "tasker/error.h"
#include "tasker/result.h"

namespace tasker::agent {

/// What the agent did, counted for Agent::stats() and told to its observer as it happens. Failed
/// queue calls are counted here too, and the one failure that cannot be retried — a full disk
/// under the queue — stops the agent.
class Counters {
 public:
  /// `observer` may be null.
  Counters(AgentObserver* observer, StopControl& stop);
  Counters(const Counters&) = delete;
  Counters& operator=(const Counters&) = delete;

  /// A receive call on the tasks queue answered.
  void polled();
  /// A message was taken from the tasks queue.
  void received();
  /// A message is answered with `result`, which now waits to be sent.
  void answered(const TaskResult& result);
  /// `original`, already counted by answered(), was refused by the results queue for good and is
  /// replaced by a failure.
  void replaced(const TaskResult& original);
  /// Not a task, or over its attempts.
  void poison();
  /// Asked for what the policy forbids.
  void refused();
  /// Missing, malformed or wrong signature.
  void unauthenticated();
  /// Handed back to the queue unanswered.
  void released();
  /// A container started, or ended.
  void started_running();
  void stopped_running();

  /// Counts and logs a failed queue call (`what` names it); a full disk also stops the agent.
  void queue_error(const Error& error, std::string_view what);

  AgentStats stats() const;

 private:
  AgentObserver* const observer_;
  StopControl& stop_;
  std::atomic<std::uint64_t> received_{0}, succeeded_{0}, failed_{0}, released_{0}, poison_{0},
      refused_{0}, unauthenticated_{0}, queue_errors_{0}, running_{0};
};

}  // namespace tasker::agent
