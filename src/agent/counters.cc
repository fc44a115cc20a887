#include "agent/counters.h"

#include "util/log.h"

namespace tasker::agent {

Counters::Counters(AgentObserver* observer, StopControl& stop) : observer_(observer), stop_(stop) {}

void Counters::polled() {
  if (observer_) observer_->on_polled();
}

void Counters::received() {
  ++received_;
  if (observer_) observer_->on_received();
}

void Counters::answered(const TaskResult& result) {
  if (result.is_success) {
    ++succeeded_;
  } else {
    ++failed_;
  }
  if (observer_) observer_->on_answered(result);
}

void Counters::replaced(const TaskResult& original) {
  if (original.is_success) {
    --succeeded_;
    ++failed_;
  }
}

void Counters::poison() { ++poison_; }

void Counters::refused() {
  ++refused_;
  if (observer_) observer_->on_refused();
}

void Counters::unauthenticated() {
  ++unauthenticated_;
  if (observer_) observer_->on_unauthenticated();
}

void Counters::released() { ++released_; }

void Counters::started_running() {
  ++running_;
  if (observer_) observer_->on_running(running_.load());
}

void Counters::stopped_running() {
  --running_;
  if (observer_) observer_->on_running(running_.load());
}

void Counters::queue_error(const Error& error, std::string_view what) {
  ++queue_errors_;
  if (observer_) observer_->on_queue_error(error);
  log::warn("{}: {}", what, error.message);
  if (error.kind == ErrorKind::kNoSpace) stop_.stop_for(error);
}

AgentStats Counters::stats() const {
  AgentStats stats;
  stats.received = received_;
  stats.succeeded = succeeded_;
  stats.failed = failed_;
  stats.released = released_;
  stats.poison = poison_;
  stats.refused = refused_;
  stats.unauthenticated = unauthenticated_;
  stats.queue_errors = queue_errors_;
  stats.running = running_;
  return stats;
}

}  // namespace tasker::agent
