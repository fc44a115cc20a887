#include "agent/runtime_health.h"

#include "agent/retry_wait.h"
#include "util/log.h"

namespace tasker::agent {

RuntimeHealth::RuntimeHealth(ContainerRuntime& runtime, StopControl& stop)
    : runtime_(runtime), stop_(stop) {}

void RuntimeHealth::check() {
  const bool ready = runtime_.check_ready().ok();
  MutexLock lock(mu_);
  away_ = !ready;
}

bool RuntimeHealth::away() {
  MutexLock lock(mu_);
  return away_;
}

void RuntimeHealth::mark_away() {
  MutexLock lock(mu_);
  away_ = true;
}

void RuntimeHealth::wait_until_back() {
  int attempt = 0;
  while (!stop_.stopping()) {
    if (!away()) return;
    if (auto ready = runtime_.check_ready(); ready) {
      log::info("container runtime is available again; taking tasks");
      MutexLock lock(mu_);
      away_ = false;
      return;
    } else if (attempt == 0) {
      log::warn("container runtime unavailable, not taking tasks until it answers: {}",
                ready.error().message);
    }
    stop_.pause(retry_wait(attempt++));
  }
}

}  // namespace tasker::agent
