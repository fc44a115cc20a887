#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>

#include "tasker/result.h"
#include "tasker/task.h"

namespace tasker {

/// Who is running a task, for container labels and the result's detail fields.
struct RunContext {
  std::string agent;  ///< The agent's name (host name by default).
  int attempt = 1;    ///< Which delivery of the task this is (the queue's receive count).
};

/// Processes (and threads) a container may have unless the operator says otherwise.
inline constexpr std::int64_t kDefaultPidsLimit = 4096;

/// The limits a runtime puts on containers: memory and cpus for tasks that ask none (a task's own
/// request wins), and the pids limit for every task. The agent's policy decides them
/// (container_limits() in tasker/policy.h).
struct ContainerLimits {
  /// Memory, and memory plus swap, in bytes.
  std::optional<std::int64_t> memory_bytes;
  std::optional<double> cpus;
  std::optional<std::int64_t> pids = kDefaultPidsLimit;
};

/// What running a task gave: a result to send, or a failure of the machinery (not of the task)
/// after which the task should be handed back to the queue rather than answered.
struct RunOutcome {
  TaskResult result;
  /// True when the failure is the environment's — the Docker daemon unreachable or restarting,
  /// or the run cancelled through its stop token — so another attempt may succeed. The agent
  /// releases the message instead of sending `result`.
  bool retryable = false;
};

/// Runs one Task as a container and returns its outcome. Every failure is an outcome, never an
/// exception. Abstract so the agent can be tested without Docker; the real one talks to the
/// Docker Engine API (src/docker/).
class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  /// Runs `task` to completion. When `stop` is requested the container is killed and removed
  /// and the outcome is retryable. Safe to call from several threads at once.
  virtual RunOutcome run(const Task& task, const RunContext& context, std::stop_token stop) = 0;

  /// Checks that tasks can run now (for Docker: the daemon answers). The agent stops taking tasks
  /// while this fails, so an outage does not burn the tasks' attempts.
  virtual Status check_ready() { return Status::success(); }
};

}  // namespace tasker
