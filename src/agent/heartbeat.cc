#include "agent/heartbeat.h"

#include <algorithm>

namespace tasker::agent {

Heartbeat::Heartbeat(std::chrono::seconds visibility, TakenMessages& taken)
    : visibility_(visibility),
      interval_(std::max<std::chrono::milliseconds>(
          kShortestInterval,
          std::chrono::duration_cast<std::chrono::milliseconds>(visibility) / 3)),
      taken_(taken) {}

void Heartbeat::start() { thread_ = std::thread(&Heartbeat::beat, this); }

void Heartbeat::stop() {
  {
    MutexLock lock(mu_);
    stopped_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Heartbeat::beat() {
  while (wait_for_next_beat()) taken_.extend_all(visibility_);
}

bool Heartbeat::wait_for_next_beat() {
  const auto until = std::chrono::steady_clock::now() + interval_;
  MutexLock lock(mu_);
  while (!stopped_ && std::chrono::steady_clock::now() < until) changed_.wait_until(mu_, until);
  return !stopped_;
}

}  // namespace tasker::agent
