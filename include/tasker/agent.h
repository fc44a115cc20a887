#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tasker/agent_observer.h"
#include "tasker/error.h"
#include "tasker/policy.h"
#include "tasker/queue.h"
#include "tasker/runtime.h"
#include "tasker/signing.h"

namespace tasker {

/// How an agent takes and answers tasks. The CLI fills it from docker-tasker's environment
/// (`Q_TASK`, `Q_RESULTS`, `nProc`) and flags.
struct AgentOptions {
  /// This agent's name, put on results and container labels (host name by default).
  std::string name = "agent";
  /// Tasks run at once.
  std::size_t slots = 1;
  /// Where results go when a task names no reply queue.
  std::string results_queue;
  /// Visibility asked for at receive and kept ahead of expiry while a task runs; also how long a
  /// killed agent's tasks stay hidden before another agent takes them.
  std::chrono::seconds visibility{30};
  /// Longest long-poll wait of one receive.
  std::chrono::milliseconds poll_wait{5000};
  /// On the first SIGTERM/SIGINT, how long running tasks may finish before they are killed and
  /// handed back.
  std::chrono::seconds grace{30};
  /// Deliveries after which a task is answered as failed, unless it sets `maxAttempts`.
  int default_max_attempts = 3;
  /// How long a result may wait for others to share its send call.
  std::chrono::milliseconds publish_linger{3};
  /// What tasks may ask for; a task that asks for more is answered as failed (error "policy")
  /// before anything is pulled or created, and not retried.
  TaskPolicy policy;
  /// When set, only tasks whose `tasker-signature` attribute verifies against this key run; any
  /// other message is answered as failed (error "unauthenticated") unparsed and deleted. Every
  /// result this agent sends is signed with it, for masters that require signed results.
  std::optional<SigningKey> signing_key;
  /// Stop once the task queue has been found empty (for `tasker run` and tests); 0 = never.
  bool exit_when_idle = false;
};

/// Counts of what an agent did, readable while it runs.
struct AgentStats {
  std::uint64_t received = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t released = 0;  ///< Handed back to the queue (drain, daemon outage).
  std::uint64_t poison = 0;    ///< Not a task, or over its attempts: answered as failed.
  std::uint64_t refused = 0;   ///< Asked for what the policy forbids: answered as failed.
  /// Missing, malformed or wrong signature while a key is set: answered as failed, not run.
  std::uint64_t unauthenticated = 0;
  std::uint64_t queue_errors = 0;
  std::uint64_t running = 0;
};

/// The worker of every node: takes tasks from a queue, runs each in its own slot through a
/// ContainerRuntime, keeps their messages invisible while they run, sends each result (to the
/// task's reply queue, else the results queue) and only then deletes the task message.
class Agent {
 public:
  /// Takes tasks from `tasks`, opens result queues on `broker` and runs containers on `runtime`,
  /// all of which must outlive it. `observer`, when given, is told what the agent does (for
  /// metrics: serve_agent_metrics() in tasker/agent_metrics.h) and must outlive it too.
  Agent(Broker& broker, std::unique_ptr<Queue> tasks, ContainerRuntime& runtime,
        AgentOptions options, AgentObserver* observer = nullptr);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Runs until stopped (or, with exit_when_idle, until the queue is empty and nothing runs).
  /// Every task taken is answered or handed back before it returns.
  Status run();

  /// The first call drains: stop receiving, let running tasks finish within the grace period,
  /// then kill and hand back the rest. A second call kills and hands back at once. Thread-safe.
  void request_stop();

  /// What it did so far. Thread-safe.
  AgentStats stats() const;

 private:
  /// The poller, the slots, the publisher and the heartbeat, and what they share (src/agent/).
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace tasker
