#include "docker/docker_runtime.h"

#include <fmt/format.h>

#include <variant>

#include "docker/log_stream.h"
#include "docker/output_tail.h"
#include "docker/registry_auth.h"
#include "util/log.h"

namespace tasker::docker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long the daemon may take to open a created container's output stream.
constexpr milliseconds kAttachLimit{60000};
// How long the output stream may lag behind the container's exit before it is abandoned.
constexpr milliseconds kStreamDrainLimit{10000};
// How long the output stream may run on when there is no exit to wait for (the container never
// started, was killed, or the daemon failed).
constexpr milliseconds kNoExitDrainLimit{2000};
// The exit code of a SIGKILLed process: the OOM killer's, unless tasker sent it.
constexpr int kKilledExitCode = 137;
// How long the remover waits before its one retry when the daemon may be restarting.
constexpr milliseconds kRemovalRetryPause{500};

std::string format_seconds(double seconds) { return fmt::format("{:g} s", seconds); }

std::string format_mib(std::int64_t bytes) {
  return fmt::format("{:g} MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

// The outcome of a failure of the environment (daemon away, run cancelled): hand the task back.
RunOutcome retryable(const Task& task, std::string error_class, std::string reason) {
  return RunOutcome{TaskResult::failure(task.id, std::move(error_class), std::move(reason)), true};
}

RunOutcome failed(const Task& task, std::string error_class, std::string reason) {
  return RunOutcome{TaskResult::failure(task.id, std::move(error_class), std::move(reason)), false};
}

// The agent is stopping: the task goes back to the queue for another agent.
RunOutcome cancelled(const Task& task) {
  return retryable(task, "cancelled", "cancelled: the agent is stopping");
}

RunOutcome image_not_found(const Task& task) {
  return failed(task, "image", "image not found: " + task.image);
}

// A client error reads "what failed: why"; a task's reason wants only the why.
std::string without_context(const std::string& message) {
  const auto colon = message.find(": ");
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

// A docker call failed in a way that is not the task's fault.
RunOutcome docker_failure(const Task& task, const Error& error) {
  if (error.transient()) return retryable(task, "docker", error.message);
  return failed(task, "docker", error.message);
}

// Why the container could not be created, the image having been pulled if it was missing.
RunOutcome create_failure(const Task& task, const Error& error) {
  if (error.kind == ErrorKind::kInvalidInput) {
    return failed(task, "invalid-task", "invalid task: " + error.message);
  }
  if (error.kind == ErrorKind::kNotFound) return image_not_found(task);
  return docker_failure(task, error);
}

// Why the created container could not be started.
RunOutcome start_failure(const Task& task, const Error& error) {
  if (error.transient()) return retryable(task, "docker", error.message);
  return failed(task, "start", "cannot start container: " + without_context(error.message));
}

// The task's time limit: its own `timeout`, else the runtime's default, else none.
std::optional<milliseconds> time_limit(const Task& task, const DockerRuntimeOptions& options) {
  if (task.timeout_seconds) {
    return milliseconds(static_cast<std::int64_t>(*task.timeout_seconds * 1000));
  }
  return options.default_timeout;
}

// Logs a container left behind: a removal is off the task's path, so nobody else hears of it.
void warn_not_removed(const std::string& container_id, const Error& error) {
  log::warn("could not remove container {}: {}", container_id.substr(0, 12), error.message);
}

// tasker's labels: the container is tasker's, of this task, run and agent.
nlohmann::json container_labels(const Task& task, const RunContext& context) {
  nlohmann::json labels = {{std::string(kTaskerLabel), "1"},
                           {std::string(kTaskIdLabel), task.id},
                           {std::string(kAgentLabel), context.agent}};
  if (task.run_id) labels[std::string(kRunIdLabel)] = *task.run_id;
  return labels;
}

// The task's bind mounts as the API's Mounts. Mounts rather than Binds: a bind source that does
// not exist is an error, where Binds would create it on the host as an empty root-owned directory.
nlohmann::json bind_mounts(const Task& task) {
  nlohmann::json mounts = nlohmann::json::array();
  for (const auto& spec : task.mounts) {
    auto mount = parse_mount(spec);
    if (!mount) continue;  // validate() refused it before any container is made.
    mounts.push_back({{"Type", "bind"},
                      {"Source", mount->source},
                      {"Target", mount->target},
                      {"ReadOnly", mount->read_only}});
  }
  return mounts;
}

// The HostConfig: no log driver, the limits, privileges, mounts and network.
nlohmann::json host_config(const Task& task, const DockerRuntimeOptions& options) {
  nlohmann::json host = {{"LogConfig", {{"Type", "none"}, {"Config", nlohmann::json::object()}}}};
  if (const auto memory = task.memory_bytes ? task.memory_bytes : options.limits.memory_bytes) {
    // Swap equal to memory: the limit is real and a task over it is OOM-killed, not swapped.
    host["Memory"] = *memory;
    host["MemorySwap"] = *memory;
  }
  if (const auto cpus = task.cpus ? task.cpus : options.limits.cpus) {
    host["NanoCpus"] = static_cast<std::int64_t>(*cpus * 1e9);
  }
  if (options.limits.pids) host["PidsLimit"] = *options.limits.pids;
  const bool privileged = task.privileged.value_or(false);
  if (privileged) host["Privileged"] = true;
  if (options.no_new_privileges && !privileged) {
    host["SecurityOpt"] = nlohmann::json::array({"no-new-privileges"});
  }
  if (!task.mounts.empty()) host["Mounts"] = bind_mounts(task);
  if (task.network) {
    host["NetworkMode"] = *task.network;
  } else if (options.default_network) {
    host["NetworkMode"] = *options.default_network;
  }
  return host;
}

// The attach stream of one container, read on its own thread: decodes the frames into bounded
// tails of stdout and stderr, and says when the stream is open and when it has ended.
class OutputReader {
 public:
  OutputReader(DockerClient& client, std::string container_id, std::size_t tail_bytes)
      : stdout_(tail_bytes),
        stderr_(tail_bytes),
        decoder_([this](StreamKind stream, std::string_view data) {
          (stream == StreamKind::kStderr || stream == StreamKind::kSystemError ? stderr_ : stdout_)
              .write(data);
        }) {
    thread_ = std::thread([this, &client, id = std::move(container_id)] { read(client, id); });
  }

  ~OutputReader() {
    abandon_ = true;
    if (thread_.joinable()) thread_.join();
  }

  /// Waits up to `limit` until the stream is open (true) or has failed to open (false).
  bool wait_open(milliseconds limit) EXCLUDES(mutex_) {
    const auto deadline = CondVar::Clock::now() + limit;
    MutexLock lock(mutex_);
    while (!opened_ && !ended_ && changed_.wait_until(mutex_, deadline)) {
    }
    return opened_;
  }

  /// Waits up to `limit` for the stream to end, then abandons it; returns its status.
  Status finish(milliseconds limit) EXCLUDES(mutex_) {
    const auto deadline = CondVar::Clock::now() + limit;
    {
      MutexLock lock(mutex_);
      while (!ended_ && changed_.wait_until(mutex_, deadline)) {
      }
      if (!ended_) abandon_ = true;
    }
    thread_.join();
    MutexLock lock(mutex_);
    return status_;
  }

  /// The tails, complete once finish() has returned.
  OutputTail& out() { return stdout_; }
  OutputTail& err() { return stderr_; }

 private:
  void read(DockerClient& client, const std::string& id) EXCLUDES(mutex_) {
    Status status = client.attach_container(
        id,
        [this] {
          MutexLock lock(mutex_);
          opened_ = true;
          changed_.notify_all();
        },
        [this](std::string_view chunk) {
          if (stream_status_) stream_status_ = decoder_.feed(chunk);
        },
        [this] { return abandon_.load(); });
    if (status && !stream_status_) status = stream_status_;
    MutexLock lock(mutex_);
    status_ = std::move(status);
    ended_ = true;
    changed_.notify_all();
  }

  // Written by the reader thread only, and read by others once it has been joined.
  OutputTail stdout_;
  OutputTail stderr_;
  LogStreamDecoder decoder_;
  Status stream_status_;
  std::atomic<bool> abandon_{false};

  Mutex mutex_;  // Guards what the reader thread tells the runtime: open, ended, and how.
  CondVar changed_;
  bool opened_ GUARDED_BY(mutex_) = false;
  bool ended_ GUARDED_BY(mutex_) = false;
  Status status_ GUARDED_BY(mutex_);
  std::thread thread_;  // Reads the attach stream until the container's output ends.
};

}  // namespace

nlohmann::json container_config(const Task& task, const RunContext& context,
                                const DockerRuntimeOptions& options) {
  nlohmann::json config = {{"Image", task.image},
                           {"Labels", container_labels(task, context)},
                           {"AttachStdin", false},
                           {"AttachStdout", true},
                           {"AttachStderr", true},
                           {"Tty", false},
                           {"OpenStdin", false},
                           {"HostConfig", host_config(task, options)}};
  if (!task.argv.empty()) config["Cmd"] = task.argv;
  if (task.entrypoint) {
    // An empty entrypoint clears the image's, which the API spells [""].
    config["Entrypoint"] =
        task.entrypoint->empty() ? std::vector<std::string>{""} : *task.entrypoint;
  }
  if (!task.env.empty()) {
    auto& env = config["Env"] = nlohmann::json::array();
    for (const auto& [name, value] : task.env) env.push_back(name + "=" + value);
  }
  if (task.workdir) config["WorkingDir"] = *task.workdir;
  if (task.user) config["User"] = *task.user;
  return config;
}

// One task's run on the daemon. The steps, in order: check the task, create the container
// (pulling a missing image once), attach to its output, start it and wait for its exit within
// the time limit, turn the exit into an outcome (telling an OOM kill from a plain exit), and
// remove the container, whatever happened.
class DockerRuntime::Run {
 public:
  Run(DockerRuntime& runtime, const Task& task, const RunContext& context, std::stop_token stop)
      : runtime_(runtime),
        client_(runtime.client_),
        options_(runtime.options_),
        task_(task),
        context_(context),
        stop_(std::move(stop)),
        time_limit_(time_limit(task, options_)) {}

  /// Runs every step and returns the outcome with the output's tails.
  RunDetail execute() {
    if (auto valid = validate(task_); !valid) {
      return finish(failed(task_, "invalid-task", "invalid task: " + valid.error().message));
    }
    if (auto not_created = create()) return finish(std::move(*not_created));
    RunOutcome outcome = run_container();
    runtime_.remove_later(container_id_);
    return finish(std::move(outcome));
  }

 private:
  // How a started container ended: its exit code, or the outcome that stands for one (cancelled,
  // timed out, refused to start, daemon trouble).
  using Ending = std::variant<int, RunOutcome>;

  // Creates the container, pulling the image once when the daemon has not got it; the outcome
  // when the run ends here.
  std::optional<RunOutcome> create() {
    const nlohmann::json config = container_config(task_, context_, options_);
    auto created = client_.create_container(config);
    if (!created && created.error().kind == ErrorKind::kNotFound) {
      if (Status pulled = runtime_.ensure_image(task_.image); !pulled) {
        return pull_failure(pulled.error());
      }
      created = client_.create_container(config);
    }
    if (!created) return create_failure(task_, created.error());
    container_id_ = *created;
    return std::nullopt;
  }

  // Why the image could not be pulled, said so the user knows what to fix.
  RunOutcome pull_failure(const Error& error) const {
    switch (error.kind) {
      case ErrorKind::kNotFound:
        return image_not_found(task_);
      case ErrorKind::kDenied:
        return failed(task_, "pull",
                      "pull denied for " + task_.image + ": " + without_context(error.message) +
                          " (check the credentials for " + registry_of(task_.image) + " in " +
                          runtime_.docker_config() + ")");
      case ErrorKind::kInvalidInput:
        return failed(task_, "pull", error.message);
      default:
        if (error.transient()) return docker_failure(task_, error);
        return failed(task_, "pull",
                      "pull failed for " + task_.image + ": " + without_context(error.message));
    }
  }

  // Attaches before the start, so not a byte of a short-lived container's output is lost, then
  // starts, waits, and reads the outcome with the output's tails.
  RunOutcome run_container() {
    OutputReader output(client_, container_id_, options_.output_tail_bytes);
    if (!output.wait_open(kAttachLimit)) return attach_failure(output.finish(milliseconds(0)));
    const Ending ending = start_and_wait();
    const int* exit_code = std::get_if<int>(&ending);
    Status stream = output.finish(exit_code ? kStreamDrainLimit : kNoExitDrainLimit);
    detail_.stdout_tail = output.out().tail();
    detail_.stderr_tail = output.err().tail();
    if (!exit_code) return std::get<RunOutcome>(ending);
    RunOutcome outcome = exit_outcome(*exit_code, output);
    if (!stream) {
      log::warn("task {}: output stream of container {} ended badly: {}", task_.id, short_id(),
                stream.error().message);
    }
    return outcome;
  }

  // The output stream did not open in time, or failed to.
  RunOutcome attach_failure(const Status& attach) const {
    if (!attach) return docker_failure(task_, attach.error());
    return docker_failure(task_, Error::timeout("docker daemon at " + client_.endpoint().address +
                                                " did not open the output stream of container " +
                                                short_id() + " within " +
                                                std::to_string(kAttachLimit.count() / 1000) +
                                                " s"));
  }

  // Starts the container and waits for its exit with what is left of the time limit.
  Ending start_and_wait() {
    if (stop_.stop_requested()) return cancelled(task_);
    if (Status started = client_.start_container(container_id_); !started) {
      return start_failure(task_, started.error());
    }
    auto exit = client_.wait_container(container_id_, time_left(),
                                       [this] { return stop_.stop_requested(); });
    if (exit) return *exit;
    return wait_failure(exit.error());
  }

  // What is left of the time limit since the run began (at least 1 ms); zero for no limit.
  milliseconds time_left() const {
    if (!time_limit_) return milliseconds(0);
    const auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started_);
    return std::max(milliseconds(1), *time_limit_ - elapsed);
  }

  // The wait ended without an exit: the agent stopping or the time limit kill the container.
  RunOutcome wait_failure(const Error& error) {
    if (stop_.stop_requested()) {
      (void)client_.kill_container(container_id_);
      return cancelled(task_);
    }
    if (error.kind == ErrorKind::kTimeout && time_limit_) {
      (void)client_.kill_container(container_id_);
      const double seconds = task_.timeout_seconds.value_or(time_limit_->count() / 1000.0);
      return failed(task_, "timeout", "timeout after " + format_seconds(seconds));
    }
    return docker_failure(task_, error);
  }

  // The outcome of an exit: success with the last stdout line, out of memory, or the code with
  // the last stderr line.
  RunOutcome exit_outcome(int exit_code, OutputReader& output) {
    RunOutcome outcome;
    if (exit_code == 0) {
      outcome = RunOutcome{TaskResult::success(task_.id, output.out().last_line()), false};
    } else if (oom_killed(exit_code)) {
      outcome = failed(task_, "oom", oom_reason());
    } else {
      const std::string last_error = output.err().last_line();
      outcome = failed(task_, "exit",
                       "exit code " + std::to_string(exit_code) +
                           (last_error.empty() ? "" : ": " + last_error));
    }
    outcome.result.exit_code = exit_code;
    return outcome;
  }

  // Whether the kernel's OOM killer ended the container. A SIGKILL that tasker did not send, to a
  // task with a memory limit, is the OOM killer's: the daemon may record the OOM event only after
  // the exit, or under load never (seen on CI), so its record is not waited for. Any other failed
  // exit of a task with a limit, and a SIGKILL of a task without one, asks the daemon.
  bool oom_killed(int exit_code) {
    const bool killed = exit_code == kKilledExitCode;
    if (killed && task_.memory_bytes) return true;
    if (!killed && !task_.memory_bytes) return false;
    auto state = client_.inspect_container(container_id_);
    return state && state->oom_killed;
  }

  std::string oom_reason() const {
    const auto limit = task_.memory_bytes ? task_.memory_bytes : options_.limits.memory_bytes;
    if (!limit) return "out of memory (killed by the kernel's OOM killer)";
    return "out of memory (limit " + format_mib(*limit) + ")";
  }

  // Completes the result with what every outcome carries, and hands back the detail.
  RunDetail finish(RunOutcome outcome) {
    TaskResult& result = outcome.result;
    result.id = task_.id;
    result.duration_ms =
        std::chrono::duration_cast<milliseconds>(Clock::now() - started_).count();
    result.started_at_ms = std::chrono::duration_cast<milliseconds>(
                               wall_started_.time_since_epoch()).count();
    result.attempt = context_.attempt;
    if (!context_.agent.empty()) result.agent = context_.agent;
    result.run_id = task_.run_id;
    detail_.outcome = std::move(outcome);
    return std::move(detail_);
  }

  std::string short_id() const { return container_id_.substr(0, 12); }

  DockerRuntime& runtime_;
  DockerClient& client_;
  const DockerRuntimeOptions& options_;
  const Task& task_;
  const RunContext& context_;
  const std::stop_token stop_;
  const Clock::time_point started_ = Clock::now();
  const std::chrono::system_clock::time_point wall_started_ = std::chrono::system_clock::now();
  const std::optional<milliseconds> time_limit_;
  std::string container_id_;
  RunDetail detail_;
};

DockerRuntime::DockerRuntime(DockerClient& client, DockerRuntimeOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.remove_in_background) remover_ = std::thread([this] { remover_loop(); });
}

DockerRuntime::~DockerRuntime() {
  {
    MutexLock lock(removals_mutex_);
    stopping_ = true;
  }
  removals_changed_.notify_all();
  if (remover_.joinable()) remover_.join();
}

Status DockerRuntime::check_ready() { return client_.ping(); }

RunOutcome DockerRuntime::run(const Task& task, const RunContext& context, std::stop_token stop) {
  return run_detailed(task, context, std::move(stop)).outcome;
}

RunDetail DockerRuntime::run_detailed(const Task& task, const RunContext& context,
                                      std::stop_token stop) {
  return Run(*this, task, context, std::move(stop)).execute();
}

std::string DockerRuntime::docker_config() const {
  return options_.docker_config.empty() ? docker_config_path() : options_.docker_config;
}

Status DockerRuntime::ensure_image(const std::string& image) {
  std::promise<Status> promise;
  std::shared_future<Status> pull;
  bool leader = false;
  {
    MutexLock lock(pulls_mutex_);
    if (auto it = pulls_.find(image); it != pulls_.end()) {
      pull = it->second;
    } else {
      pull = promise.get_future().share();
      pulls_.emplace(image, pull);
      leader = true;
    }
  }
  if (!leader) return pull.get();

  // Only the leader pulls; everyone waiting on the same image shares its result.
  Status status = pull_if_missing(image);
  promise.set_value(status);
  MutexLock lock(pulls_mutex_);
  pulls_.erase(image);
  return status;
}

Status DockerRuntime::pull_if_missing(const std::string& image) {
  auto present = client_.image_exists(image);
  if (!present) return present.error();
  if (*present) return Status::success();
  auto auth = registry_auth_header(image, docker_config());
  if (!auth) return auth.error();
  ++pulls_started_;
  log::info("pulling {}", image);
  return client_.pull_image(image, *auth);
}

void DockerRuntime::remove_later(std::string container_id) {
  if (!options_.remove_in_background) {
    if (Status removed = client_.remove_container(container_id); !removed) {
      warn_not_removed(container_id, removed.error());
    }
    return;
  }
  {
    MutexLock lock(removals_mutex_);
    removals_.push_back(std::move(container_id));
  }
  removals_changed_.notify_all();
}

void DockerRuntime::remover_loop() {
  while (std::optional<std::string> id = next_removal()) {
    Status removed = client_.remove_container(*id);
    if (!removed && removed.error().transient()) {
      // The daemon may be restarting: one more try after a pause before giving up.
      std::this_thread::sleep_for(kRemovalRetryPause);
      removed = client_.remove_container(*id);
    }
    if (!removed) warn_not_removed(*id, removed.error());
    removal_done();
  }
}

std::optional<std::string> DockerRuntime::next_removal() {
  MutexLock lock(removals_mutex_);
  while (!stopping_ && removals_.empty()) removals_changed_.wait(removals_mutex_);
  if (removals_.empty()) return std::nullopt;  // Stopping, with nothing left to remove.
  std::string id = std::move(removals_.front());
  removals_.pop_front();
  ++removing_;
  return id;
}

void DockerRuntime::removal_done() {
  MutexLock lock(removals_mutex_);
  --removing_;
  removals_changed_.notify_all();
}

void DockerRuntime::flush_removals() {
  MutexLock lock(removals_mutex_);
  while (!removals_.empty() || removing_ != 0) removals_changed_.wait(removals_mutex_);
}

Expected<std::size_t> remove_tasker_containers(DockerClient& client) {
  auto containers = client.list_containers(std::string(kTaskerLabel));
  if (!containers) return containers.error();
  std::size_t removed = 0;
  for (const auto& container : *containers) {
    TASKER_TRY(client.remove_container(container.id));
    ++removed;
  }
  return removed;
}

}  // namespace tasker::docker
