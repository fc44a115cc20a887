#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "tasker/master.h"
#include "tasker/policy.h"
#include "tasker/signing.h"

namespace tasker {

/// How `tasker run` (the embedded default) runs: everything on this machine, no AWS.
struct EmbeddedOptions {
  /// Holds the SQLite queue (queue.db) and the run's journal; an interrupted run found here is
  /// resumed.
  std::string state_dir = ".tasker";
  /// Tasks run at once; 0 means the number of CPUs.
  std::size_t slots = 0;
  /// What the tasks are read from (MasterOptions::input): an interrupted run of another input
  /// is refused rather than resumed.
  std::string input;
  /// A resumed run hands the results already in its journal to the handler again
  /// (MasterOptions::replay).
  bool replay = true;
  /// Discard an interrupted run found in state_dir instead of resuming it.
  bool fresh = false;
  /// What tasks may ask for (the same flags as `tasker agent`). Its caps also become the limits
  /// of tasks that set none.
  TaskPolicy policy;
  /// The policy's cpu cap is also the default cpu limit of tasks (only when the user set it).
  bool cap_cpus = false;
  MasterOptions::Progress progress = MasterOptions::Progress::kNone;
  std::chrono::milliseconds timeout{0};
  /// When set and it becomes true (e.g. from a signal), the run stops, resumably.
  const std::atomic<bool>* interrupt = nullptr;
  /// When set, the master signs every task and the in-process agent runs only signed ones, so
  /// nothing else that can write to the queue file gets a task run.
  std::optional<SigningKey> signing_key;
};

/// Runs a master, an in-process agent and an SQLite queue in one process, on the local Docker
/// daemon (`DOCKER_HOST`, else /var/run/docker.sock): the one-machine way to run tasks.
Expected<RunReport> run_embedded(const Supply& supply, const ResultHandler& on_result,
                                 const EmbeddedOptions& options);

}  // namespace tasker
