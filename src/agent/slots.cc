#include "agent/slots.h"

#include <string>
#include <system_error>

#include "util/log.h"

namespace tasker::agent {

Slots::Slots(const AgentOptions& options, ContainerRuntime& runtime, RuntimeHealth& health,
             TakenMessages& taken, Publisher& publisher, Counters& counters, StopControl& stop)
    : options_(options),
      runtime_(runtime),
      health_(health),
      taken_(taken),
      publisher_(publisher),
      counters_(counters),
      stop_(stop) {
  stop_.wake_on_stop(mu_, changed_);
}

Status Slots::start() {
  try {
    for (std::size_t i = 0; i < options_.slots; ++i) workers_.emplace_back(&Slots::work, this);
  } catch (const std::system_error& e) {
    const std::size_t started = workers_.size();
    stop_workers();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
    return Error::internal("cannot start " + std::to_string(options_.slots) +
                           " slots: the system refused a thread after " + std::to_string(started) +
                           " (" + e.code().message() + "); use fewer --slots");
  }
  return Status::success();
}

std::size_t Slots::wait_for_free() {
  MutexLock lock(mu_);
  while (!stop_.stopping() && busy_ >= options_.slots) changed_.wait(mu_);
  if (stop_.stopping()) return 0;
  return options_.slots - busy_;
}

void Slots::reserve(std::size_t count) {
  MutexLock lock(mu_);
  busy_ += count;
}

void Slots::release() {
  {
    MutexLock lock(mu_);
    --busy_;
  }
  changed_.notify_all();
}

void Slots::run(Job job) {
  {
    MutexLock lock(mu_);
    waiting_.push_back(std::move(job));
  }
  changed_.notify_all();
}

bool Slots::idle() {
  MutexLock lock(mu_);
  return busy_ == 0;
}

void Slots::work() {
  while (std::optional<Job> job = next_job()) {
    // A receive already waiting when the runtime failed can take a task handed back just
    // before: give it back again rather than run it on a runtime known to be away.
    if (health_.away() && !stop_.cancelling()) {
      taken_.hand_back(job->message.receipt, "runtime unavailable");
    } else {
      run_job(*job);
    }
    release();
  }
}

std::optional<Job> Slots::next_job() {
  MutexLock lock(mu_);
  while (waiting_.empty() && !no_more_jobs_) changed_.wait(mu_);
  if (waiting_.empty()) return std::nullopt;
  Job job = std::move(waiting_.front());
  waiting_.pop_front();
  return job;
}

void Slots::run_job(const Job& job) {
  counters_.started_running();
  RunContext context{options_.name, job.message.receive_count};
  RunOutcome outcome = runtime_.run(job.task, context, stop_.cancel_token());
  counters_.stopped_running();
  if (!outcome.retryable) {
    answer(job, std::move(outcome.result));
    return;
  }
  const bool cancelled = stop_.cancelling();
  // Marked before the task is handed back, so the poller cannot take it again (and run it on the
  // runtime that just failed) between the two.
  if (!cancelled) health_.mark_away();
  taken_.hand_back(job.message.receipt, cancelled
                                            ? "cancelled while stopping"
                                            : "runtime unavailable: " + outcome.result.payload);
}

void Slots::answer(const Job& job, TaskResult result) {
  result.id = job.task.id;
  if (!result.agent) result.agent = options_.name;
  if (!result.attempt) result.attempt = job.message.receive_count;
  result.run_id = job.task.run_id;
  log::info("task {}: {} ({} ms){}", job.task.id, result.is_success ? "succeeded" : "failed",
            result.duration_ms.value_or(0), result.is_success ? "" : ": " + result.payload);
  publisher_.publish(std::move(result), job.task.reply_queue, job.message.receipt);
}

void Slots::drain() {
  hand_back_waiting();
  wait_for_running();
  stop_workers();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

void Slots::hand_back_waiting() {
  std::deque<Job> not_started;
  {
    MutexLock lock(mu_);
    not_started.swap(waiting_);
    busy_ -= not_started.size();
  }
  for (const auto& job : not_started) taken_.hand_back(job.message.receipt, "agent stopping");
}

void Slots::wait_for_running() {
  std::size_t still_running = 0;
  {
    MutexLock lock(mu_);
    if (stop_.stopping() && busy_ > 0) {
      log::info("stopping: waiting up to {} s for {} running task(s)", options_.grace.count(),
                busy_);
      const auto deadline = stop_.drain_deadline();
      while (busy_ > 0 && !stop_.hurried() && StopControl::Clock::now() < deadline) {
        changed_.wait_until(mu_, deadline);
      }
    }
    still_running = busy_;
  }
  if (still_running > 0) {
    log::warn("stopping: killing {} task(s) and handing them back", still_running);
    stop_.cancel_running();
  }
}

void Slots::stop_workers() {
  {
    MutexLock lock(mu_);
    no_more_jobs_ = true;
  }
  changed_.notify_all();
}

}  // namespace tasker::agent
