#pragma once

#include <optional>
#include <string>

#include "agent/counters.h"
#include "agent/publisher.h"
#include "agent/runtime_health.h"
#include "agent/slots.h"
#include "agent/stop_control.h"
#include "agent/taken_messages.h"
#include "tasker/agent.h"
#include "tasker/queue.h"
#include "tasker/task.h"

namespace tasker::agent {

/// Asks the tasks queue for as many tasks as there are free slots, and dispatches each message it
/// gets: one whose signature fails, one that is not a task, a task the policy refuses and one over
/// its attempts are answered as failed without running (and deleted, never retried); a runnable
/// task becomes a job for a slot. Runs on the thread that called Agent::run.
class Poller {
 public:
  Poller(const AgentOptions& options, TakenMessages& taken, Slots& slots, RuntimeHealth& health,
         Publisher& publisher, Counters& counters, StopControl& stop);
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  /// Polls until a stop (or, with exit_when_idle, until the queue is empty and nothing is left to
  /// run or send).
  void run();

 private:
  /// Nothing runs and no result waits to be sent.
  bool idle();
  /// Handles a message just received. True when it became a job, which holds its slot until it
  /// ends; false when it was answered or handed back.
  bool dispatch(Message message);
  /// The task a message holds when it may run here; otherwise answers the message and returns
  /// nullopt. Checked in order: signature (an unauthenticated body is not even parsed), task,
  /// policy, attempts.
  std::optional<Task> runnable_task(const Message& message);

  /// Answers a message that is not a runnable task, when it can be answered.
  void answer_poison(const Message& message, const std::string& error_class,
                     const std::string& reason);
  /// Answers a valid task that asks for what this agent's policy forbids, before anything is
  /// pulled or created.
  void answer_refused(const Message& message, const std::string& reason);
  /// Answers a message whose signature does not verify (this agent requires signed tasks).
  void answer_unauthenticated(const Message& message, const std::string& reason);
  /// Answers a message without running it, then deletes it; it never comes back. The result goes
  /// to the reply queue the body names only when the body is trusted.
  void answer_unrun(const Message& message, const std::string& error_class,
                    const std::string& reason, bool body_trusted = true);

  const AgentOptions& options_;
  TakenMessages& taken_;
  Slots& slots_;
  RuntimeHealth& health_;
  Publisher& publisher_;
  Counters& counters_;
  StopControl& stop_;
};

}  // namespace tasker::agent
