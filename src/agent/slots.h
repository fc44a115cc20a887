#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include "agent/counters.h"
#include "agent/publisher.h"
#include "agent/runtime_health.h"
#include "agent/stop_control.h"
#include "agent/taken_messages.h"
#include "tasker/agent.h"
#include "tasker/queue.h"
#include "tasker/runtime.h"
#include "tasker/task.h"
#include "util/mutex.h"

namespace tasker::agent {

/// A task taken from the queue and waiting for, or holding, a slot.
struct Job {
  Message message;
  Task task;
};

/// The worker threads, one per slot, each running one job at a time through the ContainerRuntime
/// and publishing its result; and the drain on stop: hand back what has not started, let what runs
/// finish within the grace period, then kill it and hand it back. A slot is busy from the moment
/// the poller reserves it for a message until that message is answered, handed back, or found not
/// to be a job.
class Slots {
 public:
  Slots(const AgentOptions& options, ContainerRuntime& runtime, RuntimeHealth& health,
        TakenMessages& taken, Publisher& publisher, Counters& counters, StopControl& stop);
  Slots(const Slots&) = delete;
  Slots& operator=(const Slots&) = delete;

  /// Starts one worker thread per slot; when the system refuses a thread, stops the ones started
  /// and says so.
  Status start();

  /// Blocks until a slot is free; how many are, or 0 on a stop.
  std::size_t wait_for_free() EXCLUDES(mu_);

  /// Marks `count` slots busy, for the messages just received.
  void reserve(std::size_t count) EXCLUDES(mu_);

  /// Frees a reserved slot whose message did not become a job.
  void release() EXCLUDES(mu_);

  /// Gives a job to the next free worker; its slot is freed when it ends.
  void run(Job job) EXCLUDES(mu_);

  /// No slot is busy.
  bool idle() EXCLUDES(mu_);

  /// After the poller stopped: hands back the jobs that have not started, waits for the running
  /// ones until the drain deadline (or a second stop request), kills what still runs, and joins
  /// the workers.
  void drain() EXCLUDES(mu_);

 private:
  /// A worker thread: runs jobs until no more will come.
  void work();
  /// The next job, waiting for one; nullopt once no more will come.
  std::optional<Job> next_job() EXCLUDES(mu_);
  /// Runs a job and answers it, or hands it back when the runtime (not the task) failed.
  void run_job(const Job& job);
  void answer(const Job& job, TaskResult result);

  void hand_back_waiting() EXCLUDES(mu_);
  /// Waits for the running jobs to end within the drain deadline; kills those that do not.
  void wait_for_running() EXCLUDES(mu_);
  void stop_workers() EXCLUDES(mu_);

  const AgentOptions& options_;
  ContainerRuntime& runtime_;
  RuntimeHealth& health_;
  TakenMessages& taken_;
  Publisher& publisher_;
  Counters& counters_;
  StopControl& stop_;

  // Taken before the StopControl's lock (the waits here read stopping()), never after it.
  Mutex mu_;
  CondVar changed_;  // a job queued, a slot freed, the workers told to stop, or a stop
  std::deque<Job> waiting_ GUARDED_BY(mu_);  // taken, waiting for a worker
  // Slots reserved: jobs waiting or running, and messages being dispatched.
  std::size_t busy_ GUARDED_BY(mu_) = 0;
  bool no_more_jobs_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace tasker::agent
