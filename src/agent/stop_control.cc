#include "agent/stop_control.h"

#include "util/log.h"

namespace tasker::agent {

StopControl::StopControl(std::chrono::seconds grace) : grace_(grace) {}

void StopControl::request() {
  int requests = 0;
  {
    MutexLock lock(mu_);
    requests = ++requests_;
    if (requests == 1) drain_deadline_ = Clock::now() + grace_;
  }
  if (requests >= 2) {
    log::warn("second stop request: killing running tasks now");
    cancel_running();
  }
  wake_waiters();
}

// A full disk under the queue fails every write until someone frees space: rather than retry
// without end, the agent stops as on a stop request (what runs is handed back or comes back after
// its visibility timeout) and run() reports why.
void StopControl::stop_for(const Error& error) {
  {
    MutexLock lock(mu_);
    if (fault_) return;
    fault_ = error;
    gave_up_ = true;
    if (requests_ == 0) {
      requests_ = 1;
      drain_deadline_ = Clock::now() + grace_;
    }
  }
  log::error("stopping: {}", error.message);
  wake_waiters();
}

bool StopControl::stopping() {
  MutexLock lock(mu_);
  return requests_ > 0;
}

bool StopControl::hurried() {
  MutexLock lock(mu_);
  return requests_ > 1;
}

StopControl::Clock::time_point StopControl::drain_deadline() {
  MutexLock lock(mu_);
  return drain_deadline_;
}

std::optional<Error> StopControl::fault() {
  MutexLock lock(mu_);
  return fault_;
}

void StopControl::pause(std::chrono::milliseconds duration) {
  const Clock::time_point until = Clock::now() + duration;
  MutexLock lock(mu_);
  while (requests_ == 0 && Clock::now() < until) changed_.wait_until(mu_, until);
}

void StopControl::wake_on_stop(Mutex& mu, CondVar& changed) {
  MutexLock lock(mu_);
  waiters_.emplace_back(&mu, &changed);
}

void StopControl::wake_waiters() {
  stopping_.request_stop();
  std::vector<std::pair<Mutex*, CondVar*>> waiters;
  {
    MutexLock lock(mu_);
    waiters = waiters_;
  }
  changed_.notify_all();
  for (auto [mu, changed] : waiters) {
    MutexLock lock(*mu);
    changed->notify_all();
  }
}

}  // namespace tasker::agent
