#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>

#include "tasker/master.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace tasker {

/// The tasks (or supply errors) the supply thread has read ahead of the submitter, at most
/// kCapacity at once, so a supply that blocks (a pipe that writes a task now and then) never
/// holds back tasks already read. Held by a std::shared_ptr that the supply thread shares: that
/// thread may outlive a run that gave up while the supply was blocked in a read.
class SupplyChannel {
 public:
  /// The most entries read ahead; the supply thread waits while the channel holds this many.
  static constexpr std::size_t kCapacity = 1024;

  /// The supply thread's one job: reads the supply into the channel until it ends or the run
  /// abandons the channel.
  void fill(Supply supply) EXCLUDES(mu_);

  /// The next entry, waiting up to `linger` for one. Nullopt when none came: then `ended` says
  /// whether the supply has ended (none will come), else it is only quiet for now.
  std::optional<Expected<Task>> take(std::chrono::milliseconds linger, bool& ended) EXCLUDES(mu_);

  /// Tells the supply thread to stop. True when the supply had ended already, so the thread is
  /// not blocked in a read and can be joined; else it is left to end on its own.
  bool abandon() EXCLUDES(mu_);

 private:
  Mutex mu_;
  CondVar changed_;  // an entry was added or taken, the supply ended, or the channel was abandoned
  std::deque<Expected<Task>> entries_ GUARDED_BY(mu_);
  bool ended_ GUARDED_BY(mu_) = false;
  bool abandoned_ GUARDED_BY(mu_) = false;
};

}  // namespace tasker
