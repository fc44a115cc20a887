#include "docker/docker_runtime.h"

#include <fmt/format.h>

#include "docker/log_stream.h"
#include "docker/output_tail.h"
#include "docker/registry_auth.h"
#include "util/log.h"

namespace tasker::docker {
namespace {

using Clock = std::chrono::steady_clock;

// How long the daemon may take to open a created container's output stream.
constexpr std::chrono::milliseconds kAttachLimit{60000};
// How long the output stream may lag behind the container's exit before it is abandoned.
constexpr std::chrono::seconds kStreamDrainLimit{10};

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

// A client error reads "what failed: why"; a task's reason wants only the why.
std::string without_context(const std::string& message) {
  const auto colon = message.find(": ");
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

bool environment_failure(const Error& error) {
  return error.kind == ErrorKind::kUnavailable || error.kind == ErrorKind::kTransient ||
         error.kind == ErrorKind::kTimeout;
}

// A docker call failed in a way that is not the task's fault.
RunOutcome docker_failure(const Task& task, const Error& error) {
  if (environment_failure(error)) return retryable(task, "docker", error.message);
  return failed(task, "docker", error.message);
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
  bool wait_open(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, limit, [this] { return opened_ || ended_; });
    return opened_;
  }

  /// Waits up to `limit` for the stream to end, then abandons it; returns its status.
  Status finish(std::chrono::milliseconds limit) {
    {
      std::unique_lock lock(mutex_);
      if (!cv_.wait_for(lock, limit, [this] { return ended_; })) {
        abandon_ = true;
      }
    }
    thread_.join();
    return status_;
  }

  OutputTail& out() { return stdout_; }
  OutputTail& err() { return stderr_; }

 private:
  void read(DockerClient& client, const std::string& id) {
    Status status = client.attach_container(
        id,
        [this] {
          std::lock_guard lock(mutex_);
          opened_ = true;
          cv_.notify_all();
        },
        [this](std::string_view chunk) {
          if (stream_status_) stream_status_ = decoder_.feed(chunk);
        },
        [this] { return abandon_.load(); });
    if (status && !stream_status_) status = stream_status_;
    std::lock_guard lock(mutex_);
    status_ = std::move(status);
    ended_ = true;
    cv_.notify_all();
  }

  OutputTail stdout_;
  OutputTail stderr_;
  LogStreamDecoder decoder_;
  Status stream_status_;  // Written by the reader thread only.
  std::atomic<bool> abandon_{false};

  std::mutex mutex_;  // Guards opened_, ended_ and status_.
  std::condition_variable cv_;
  bool opened_ = false;
  bool ended_ = false;
  Status status_;
  std::thread thread_;  // Reads the attach stream until the container's output ends.
};

}  // namespace

nlohmann::json container_config(const Task& task, const RunContext& context,
                                const DockerRuntimeOptions& options) {
  nlohmann::json labels = {{std::string(kTaskerLabel), "1"},
                           {std::string(kTaskIdLabel), task.id},
                           {std::string(kAgentLabel), context.agent}};
  if (task.run_id) labels[std::string(kRunIdLabel)] = *task.run_id;

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
  if (!task.mounts.empty()) {
    // Mounts rather than Binds: a bind source that does not exist is an error, where Binds would
    // create it on the host as an empty root-owned directory.
    auto& mounts = host["Mounts"] = nlohmann::json::array();
    for (const auto& spec : task.mounts) {
      auto mount = parse_mount(spec);
      if (!mount) continue;  // validate() refused it before any container is made.
      mounts.push_back({{"Type", "bind"},
                        {"Source", mount->source},
                        {"Target", mount->target},
                        {"ReadOnly", mount->read_only}});
    }
  }
  if (task.network) {
    host["NetworkMode"] = *task.network;
  } else if (options.default_network) {
    host["NetworkMode"] = *options.default_network;
  }

  nlohmann::json config = {{"Image", task.image},  {"Labels", labels},     {"AttachStdin", false},
                           {"AttachStdout", true}, {"AttachStderr", true}, {"Tty", false},
                           {"OpenStdin", false},   {"HostConfig", host}};
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

DockerRuntime::DockerRuntime(DockerClient& client, DockerRuntimeOptions options)
    : client_(client), options_(std::move(options)) {
  if (options_.remove_in_background) remover_ = std::thread([this] { remover_loop(); });
}

DockerRuntime::~DockerRuntime() {
  {
    std::lock_guard lock(removals_mutex_);
    stopping_ = true;
  }
  removals_cv_.notify_all();
  if (remover_.joinable()) remover_.join();
}

Status DockerRuntime::check_ready() { return client_.ping(); }

RunOutcome DockerRuntime::run(const Task& task, const RunContext& context, std::stop_token stop) {
  return run_detailed(task, context, std::move(stop)).outcome;
}

Status DockerRuntime::ensure_image(const std::string& image) {
  std::promise<Status> promise;
  std::shared_future<Status> pull;
  bool leader = false;
  {
    std::lock_guard lock(pulls_mutex_);
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
  Status status = [&]() -> Status {
    auto present = client_.image_exists(image);
    if (!present) return present.error();
    if (*present) return Status::success();
    const std::string config =
        options_.docker_config.empty() ? docker_config_path() : options_.docker_config;
    auto auth = registry_auth_header(image, config);
    if (!auth) return auth.error();
    ++pulls_started_;
    log::info("pulling {}", image);
    return client_.pull_image(image, *auth);
  }();
  promise.set_value(status);
  std::lock_guard lock(pulls_mutex_);
  pulls_.erase(image);
  return status;
}

RunDetail DockerRuntime::run_detailed(const Task& task, const RunContext& context,
                                      std::stop_token stop) {
  const auto started = Clock::now();
  RunDetail detail;
  auto finish = [&](RunOutcome outcome) {
    TaskResult& result = outcome.result;
    result.id = task.id;
    result.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    result.attempt = context.attempt;
    if (!context.agent.empty()) result.agent = context.agent;
    result.run_id = task.run_id;
    detail.outcome = std::move(outcome);
    return detail;
  };

  // 1. Check the task: a bad one is answered, never retried.
  if (auto valid = validate(task); !valid) {
    return finish(failed(task, "invalid-task", "invalid task: " + valid.error().message));
  }

  // 2. Create the container; a missing image is pulled once and the create tried again.
  const nlohmann::json config = container_config(task, context, options_);
  auto created = client_.create_container(config);
  if (!created && created.error().kind == ErrorKind::kNotFound) {
    if (auto pulled = ensure_image(task.image); !pulled) {
      const Error& error = pulled.error();
      const std::string registry = registry_of(task.image);
      switch (error.kind) {
        case ErrorKind::kNotFound:
          return finish(failed(task, "image", "image not found: " + task.image));
        case ErrorKind::kDenied:
          return finish(failed(
              task, "pull",
              "pull denied for " + task.image + ": " + without_context(error.message) +
                  " (check the credentials for " + registry + " in " +
                  (options_.docker_config.empty() ? docker_config_path() : options_.docker_config) +
                  ")"));
        case ErrorKind::kInvalidInput:
          return finish(failed(task, "pull", error.message));
        default:
          if (environment_failure(error)) return finish(docker_failure(task, error));
          return finish(
              failed(task, "pull",
                     "pull failed for " + task.image + ": " + without_context(error.message)));
      }
    }
    created = client_.create_container(config);
  }
  if (!created) {
    if (created.error().kind == ErrorKind::kInvalidInput) {
      return finish(failed(task, "invalid-task", "invalid task: " + created.error().message));
    }
    if (created.error().kind == ErrorKind::kNotFound) {
      return finish(failed(task, "image", "image not found: " + task.image));
    }
    return finish(docker_failure(task, created.error()));
  }
  const std::string id = *created;
  const std::string short_id = id.substr(0, 12);

  RunOutcome outcome;
  {
    // 3. Attach before start, so not a byte of a short-lived container's output is lost.
    OutputReader output(client_, id, options_.output_tail_bytes);
    if (!output.wait_open(kAttachLimit)) {
      Status attach = output.finish(std::chrono::milliseconds(0));
      remove_later(id);
      return finish(docker_failure(
          task,
          attach ? Error::timeout("docker daemon at " + client_.endpoint().address +
                                  " did not open the output stream of container " + short_id +
                                  " within " + std::to_string(kAttachLimit.count() / 1000) + " s")
                 : attach.error()));
    }

    // 4. Start, then wait for the exit with what is left of the timeout.
    std::optional<std::chrono::milliseconds> timeout = options_.default_timeout;
    if (task.timeout_seconds) {
      timeout = std::chrono::milliseconds(static_cast<std::int64_t>(*task.timeout_seconds * 1000));
    }
    const double timeout_seconds =
        task.timeout_seconds.value_or(timeout ? timeout->count() / 1000.0 : 0.0);

    std::optional<Expected<int>> exit;
    if (stop.stop_requested()) {
      outcome = retryable(task, "cancelled", "cancelled: the agent is stopping");
    } else if (auto started_ok = client_.start_container(id); !started_ok) {
      const Error& error = started_ok.error();
      outcome =
          environment_failure(error)
              ? retryable(task, "docker", error.message)
              : failed(task, "start", "cannot start container: " + without_context(error.message));
    } else {
      std::chrono::milliseconds left{0};
      if (timeout) {
        left = std::max(std::chrono::milliseconds(1),
                        *timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                                       Clock::now() - started));
      }
      exit = client_.wait_container(id, left, [&stop] { return stop.stop_requested(); });
    }

    // 5. Turn the exit (or why there is none) into an outcome.
    if (exit && !*exit) {
      const Error& error = exit->error();
      if (stop.stop_requested()) {
        (void)client_.kill_container(id);
        outcome = retryable(task, "cancelled", "cancelled: the agent is stopping");
      } else if (error.kind == ErrorKind::kTimeout && timeout) {
        (void)client_.kill_container(id);
        outcome = failed(task, "timeout", "timeout after " + format_seconds(timeout_seconds));
      } else {
        outcome = docker_failure(task, error);
      }
    }
    Status stream = output.finish(exit && *exit ? std::chrono::milliseconds(kStreamDrainLimit)
                                                : std::chrono::milliseconds(2000));
    detail.stdout_tail = output.out().tail();
    detail.stderr_tail = output.err().tail();

    if (exit && *exit) {
      const int code = **exit;
      if (code == 0) {
        outcome = RunOutcome{TaskResult::success(task.id, output.out().last_line()), false};
      } else {
        bool oom = false;
        if (code == 137 || task.memory_bytes) {
          // The daemon may record the OOM event just after the exit: a SIGKILLed task with a
          // memory limit gets a few more looks before it counts as a plain exit.
          const int looks = code == 137 && task.memory_bytes ? 6 : 1;
          for (int look = 0; look < looks && !oom; ++look) {
            if (look > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
            auto state = client_.inspect_container(id);
            oom = state && state->oom_killed;
          }
          // Under load the daemon sometimes never records the OOM event (seen on CI): a SIGKILL
          // that tasker did not send, to a task with a memory limit, is the OOM killer's.
          if (!oom && code == 137 && task.memory_bytes) oom = true;
        }
        if (oom) {
          const auto limit = task.memory_bytes ? task.memory_bytes : options_.limits.memory_bytes;
          outcome = failed(task, "oom",
                           limit
                               ? "out of memory (limit " + format_mib(*limit) + ")"
                               : "out of memory (killed by the kernel's OOM killer)");
        } else {
          const std::string last_error = output.err().last_line();
          outcome = failed(
              task, "exit",
              "exit code " + std::to_string(code) + (last_error.empty() ? "" : ": " + last_error));
        }
      }
      outcome.result.exit_code = code;
      if (!stream) {
        log::warn("task {}: output stream of container {} ended badly: {}", task.id, short_id,
                  stream.error().message);
      }
    }
  }

  // 6. Always remove the container; off the critical path when configured.
  remove_later(id);
  return finish(std::move(outcome));
}

void DockerRuntime::remove_later(std::string container_id) {
  if (!options_.remove_in_background) {
    if (auto removed = client_.remove_container(container_id); !removed) {
      log::warn("could not remove container {}: {}", container_id.substr(0, 12),
                removed.error().message);
    }
    return;
  }
  {
    std::lock_guard lock(removals_mutex_);
    removals_.push_back(std::move(container_id));
  }
  removals_cv_.notify_all();
}

void DockerRuntime::remover_loop() {
  std::unique_lock lock(removals_mutex_);
  while (true) {
    removals_cv_.wait(lock, [this] { return stopping_ || !removals_.empty(); });
    if (removals_.empty()) return;  // Stopping, with nothing left to remove.
    std::string id = std::move(removals_.front());
    removals_.pop_front();
    ++removing_;
    lock.unlock();
    Status removed = client_.remove_container(id);
    if (!removed && environment_failure(removed.error())) {
      // The daemon may be restarting: one more try after a pause before giving up.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      removed = client_.remove_container(id);
    }
    if (!removed) {
      log::warn("could not remove container {}: {}", id.substr(0, 12), removed.error().message);
    }
    lock.lock();
    --removing_;
    removals_cv_.notify_all();
  }
}

void DockerRuntime::flush_removals() {
  std::unique_lock lock(removals_mutex_);
  removals_cv_.wait(lock, [this] { return removals_.empty() && removing_ == 0; });
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
