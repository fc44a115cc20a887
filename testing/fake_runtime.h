#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "tasker/runtime.h"

namespace tasker::testing {

/// A ContainerRuntime that runs nothing: each task "sleeps" for the `timeout`-free duration its
/// command asks (`sleep N` in argv[1], milliseconds) and succeeds with argv's last word, unless a
/// behaviour is set. Records how often each task id ran.
class FakeRuntime : public ContainerRuntime {
 public:
  /// Optional override: returns the outcome for a task, or nullopt for the default behaviour.
  std::function<std::optional<RunOutcome>(const Task&)> behaviour;
  std::atomic<bool> ready{true};

  RunOutcome run(const Task& task, const RunContext& context, std::stop_token stop) override {
    {
      std::lock_guard lock(mutex_);
      ++runs_[task.id];
    }
    ++running_;
    if (behaviour) {
      if (auto outcome = behaviour(task)) {
        --running_;
        return *outcome;
      }
    }
    int millis = 0;
    if (task.argv.size() >= 2 && task.argv[0] == "sleep") millis = std::stoi(task.argv[1]);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
    while (std::chrono::steady_clock::now() < deadline) {
      if (stop.stop_requested()) {
        --running_;
        RunOutcome cancelled{TaskResult::failure(task.id, "cancelled", "cancelled"), true};
        return cancelled;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    --running_;
    return RunOutcome{TaskResult::success(task.id, task.argv.empty() ? "" : task.argv.back()), false};
  }

  Status check_ready() override {
    return ready ? Status::success() : Status(Error::unavailable("fake daemon down"));
  }

  int runs(const std::string& id) {
    std::lock_guard lock(mutex_);
    return runs_.count(id) ? runs_[id] : 0;
  }
  int running() const { return running_; }

 private:
  std::mutex mutex_;
  std::map<std::string, int> runs_;
  std::atomic<int> running_{0};
};

}  // namespace tasker::testing
