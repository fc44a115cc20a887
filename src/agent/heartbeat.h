#pragma once

#include <chrono>
#include <thread>

#include "agent/taken_messages.h"
#include "util/mutex.h"

namespace tasker::agent {

/// Keeps every taken message invisible while its task runs or its result waits to be sent, so a
/// task longer than the visibility timeout is never handed to a second agent: on a thread of its
/// own, every third of the visibility timeout (at most twice a second) it extends each one.
class Heartbeat {
 public:
  Heartbeat(std::chrono::seconds visibility, TakenMessages& taken);
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  /// Starts the thread.
  void start();

  /// Stops the thread and waits for it.
  void stop() EXCLUDES(mu_);

 private:
  /// The shortest time between two beats.
  static constexpr std::chrono::milliseconds kShortestInterval{500};

  /// The thread: a beat per interval until stopped.
  void beat();
  /// Waits one interval; false when stopped.
  bool wait_for_next_beat() EXCLUDES(mu_);

  const std::chrono::seconds visibility_;
  const std::chrono::milliseconds interval_;
  TakenMessages& taken_;
  Mutex mu_;
  CondVar changed_;  // stop() was called
  bool stopped_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace tasker::agent
