#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <stop_token>
#include <utility>
#include <vector>

#include "tasker/error.h"
#include "util/mutex.h"

namespace tasker::agent {

/// When the agent stops, and why: stop requests (a signal, the program that embeds it), a fault
/// it cannot go on with (a full disk), the deadline of the drain, and the cancellation that kills
/// running containers. A wait elsewhere that must end on a stop registers with wake_on_stop().
class StopControl {
 public:
  using Clock = std::chrono::steady_clock;

  /// `grace` is how long running tasks may finish after the first stop request.
  explicit StopControl(std::chrono::seconds grace);
  StopControl(const StopControl&) = delete;
  StopControl& operator=(const StopControl&) = delete;

  /// The first call starts the drain, due to end a grace period from now; the second kills the
  /// running containers at once.
  void request() EXCLUDES(mu_);

  /// Stops the agent by itself, as a first stop request does, and keeps `error` as the reason
  /// Agent::run returns. Only the first fault counts.
  void stop_for(const Error& error) EXCLUDES(mu_);

  /// A stop was requested, or a fault stopped the agent.
  bool stopping() EXCLUDES(mu_);

  /// A second stop request came: running tasks are no longer waited for.
  bool hurried() EXCLUDES(mu_);

  /// When the grace period of the first stop ends.
  Clock::time_point drain_deadline() EXCLUDES(mu_);

  /// The fault that stopped the agent by itself, if one did.
  std::optional<Error> fault() EXCLUDES(mu_);

  /// A fault stopped the agent, so results that cannot be sent are not waited for. Lock-free, so
  /// a wait under another lock can read it.
  bool gave_up() const { return gave_up_; }

  /// Waits up to `duration`, returning early on a stop.
  void pause(std::chrono::milliseconds duration) EXCLUDES(mu_);

  /// Kills the running containers (end of the grace period, second stop request).
  void cancel_running() { cancel_.request_stop(); }
  /// cancel_running() was called: a task that ends now was killed, not failed.
  bool cancelling() const { return cancel_.stop_requested(); }
  /// What a runtime watches to know that its container must be killed.
  std::stop_token cancel_token() const { return cancel_.get_token(); }
  /// Stopped on the first stop request or fault: what the tasks queue's long poll watches, so an
  /// idle agent stops at once instead of at the end of its poll wait.
  std::stop_token stop_token() const { return stopping_.get_token(); }

  /// Makes every stop notify `changed`, with `mu` held so that a waiter between its check of
  /// stopping() and its wait cannot miss it. For waits whose condition includes stopping(); call
  /// before any thread starts. Lock order: `mu` before this object's own lock.
  void wake_on_stop(Mutex& mu, CondVar& changed) EXCLUDES(mu_);

 private:
  /// Notifies every registered waiter and this object's own, and stops stop_token().
  void wake_waiters() EXCLUDES(mu_);

  const std::chrono::seconds grace_;
  Mutex mu_;
  CondVar changed_;  // a stop request or fault, for pause()
  int requests_ GUARDED_BY(mu_) = 0;
  Clock::time_point drain_deadline_ GUARDED_BY(mu_){};
  std::optional<Error> fault_ GUARDED_BY(mu_);
  std::vector<std::pair<Mutex*, CondVar*>> waiters_ GUARDED_BY(mu_);
  std::atomic<bool> gave_up_{false};
  std::stop_source cancel_;
  std::stop_source stopping_;
};

}  // namespace tasker::agent
