#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "docker/docker_client.h"
#include "tasker/runtime.h"
#include "util/mutex.h"

namespace tasker::docker {

/// The label every tasker container carries, and the labels that say whose it is.
inline constexpr std::string_view kTaskerLabel = "tasker";
inline constexpr std::string_view kTaskIdLabel = "tasker.task-id";
inline constexpr std::string_view kRunIdLabel = "tasker.run-id";
inline constexpr std::string_view kAgentLabel = "tasker.agent";

/// How a DockerRuntime runs tasks when the task itself does not say.
struct DockerRuntimeOptions {
  /// Timeout for tasks without `timeout`; none when unset.
  std::optional<std::chrono::milliseconds> default_timeout;
  /// Network mode for tasks without `network`; the daemon's default when unset.
  std::optional<std::string> default_network;
  /// Bytes of stdout and of stderr kept per task, however much it prints.
  std::size_t output_tail_bytes = 64 * 1024;
  /// The Docker client config holding registry credentials; docker_config_path() when empty.
  std::string docker_config;
  /// Memory and cpus of tasks that ask none, and the pids limit of every container.
  ContainerLimits limits;
  /// Containers get `no-new-privileges` (setuid binaries cannot gain privileges), except
  /// privileged tasks, which reach this only where the policy allowed them.
  bool no_new_privileges = true;
  /// Remove finished containers on a background thread, off the task's critical path. Removal is
  /// still guaranteed: the runtime's destructor waits for every pending removal.
  bool remove_in_background = true;
};

/// Everything one run produced: the outcome and the kept tails of the task's output.
struct RunDetail {
  RunOutcome outcome;
  std::string stdout_tail;
  std::string stderr_tail;
};

/// The ContainerRuntime on the Docker Engine API: pulls the image when missing (one pull per
/// image however many tasks wait for it), creates the container with the task's settings and
/// tasker's labels, attaches before starting so no output is lost, keeps bounded tails of the
/// output, waits with the task's timeout, and always removes the container.
class DockerRuntime : public ContainerRuntime {
 public:
  DockerRuntime(DockerClient& client, DockerRuntimeOptions options = {});
  /// Waits for pending background removals.
  ~DockerRuntime() override;
  DockerRuntime(const DockerRuntime&) = delete;
  DockerRuntime& operator=(const DockerRuntime&) = delete;

  RunOutcome run(const Task& task, const RunContext& context, std::stop_token stop) override;

  /// Like run(), also returning the tails of stdout and stderr.
  RunDetail run_detailed(const Task& task, const RunContext& context, std::stop_token stop);

  /// The daemon answers and its API version is one tasker speaks.
  Status check_ready() override;

  /// Makes sure the image is present, pulling it with the user's registry credentials when it is
  /// not; concurrent callers for the same image share one pull.
  Status ensure_image(const std::string& image) EXCLUDES(pulls_mutex_);

  /// Blocks until every removal queued so far has been done.
  void flush_removals() EXCLUDES(removals_mutex_);

  /// How many pulls this runtime has started (for tests and metrics).
  std::uint64_t pulls_started() const { return pulls_started_; }

 private:
  /// One task's run through its steps; lives for one call of run_detailed.
  class Run;

  /// The Docker config file holding registry credentials.
  std::string docker_config() const;
  /// Pulls the image with the user's credentials unless the daemon has it already.
  Status pull_if_missing(const std::string& image);

  /// Removes a container now, or queues it for the remover thread when removal is in background.
  void remove_later(std::string container_id) EXCLUDES(removals_mutex_);
  /// The remover thread: removes queued containers until the runtime stops and none is left.
  void remover_loop() EXCLUDES(removals_mutex_);
  /// Waits for the next queued removal and counts it as in progress; nullopt once stopping with
  /// the queue empty.
  std::optional<std::string> next_removal() EXCLUDES(removals_mutex_);
  /// Counts a removal taken by next_removal() as done.
  void removal_done() EXCLUDES(removals_mutex_);

  DockerClient& client_;
  DockerRuntimeOptions options_;

  Mutex pulls_mutex_;  // Guards pulls_: one shared pull per image being pulled.
  std::map<std::string, std::shared_future<Status>> pulls_ GUARDED_BY(pulls_mutex_);
  std::atomic<std::uint64_t> pulls_started_{0};

  Mutex removals_mutex_;  // Guards the removal queue, the count in progress, and stopping_.
  CondVar removals_changed_;
  std::deque<std::string> removals_ GUARDED_BY(removals_mutex_);
  std::size_t removing_ GUARDED_BY(removals_mutex_) = 0;
  bool stopping_ GUARDED_BY(removals_mutex_) = false;
  std::thread remover_;  // Owns background removal; started with the runtime.
};

/// The ContainerCreate body for a task: command, entrypoint, env, workdir, user, limits,
/// network, tasker's labels, attached stdout/stderr, and no log driver (output is streamed).
nlohmann::json container_config(const Task& task, const RunContext& context,
                                const DockerRuntimeOptions& options);

/// Removes every container labelled as tasker's on the daemon; returns how many it removed.
Expected<std::size_t> remove_tasker_containers(DockerClient& client);

}  // namespace tasker::docker
