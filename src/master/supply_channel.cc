#include "master/supply_channel.h"

#include <utility>

namespace tasker {

void SupplyChannel::fill(Supply supply) {
  while (true) {
    std::optional<Expected<Task>> next = supply();
    MutexLock lock(mu_);
    while (!abandoned_ && entries_.size() >= kCapacity) changed_.wait(mu_);
    if (abandoned_) return;
    if (!next) {
      ended_ = true;
      changed_.notify_all();
      return;
    }
    entries_.push_back(std::move(*next));
    changed_.notify_all();
  }
}

std::optional<Expected<Task>> SupplyChannel::take(std::chrono::milliseconds linger, bool& ended) {
  const auto until = CondVar::Clock::now() + linger;
  MutexLock lock(mu_);
  while (entries_.empty() && !ended_ && changed_.wait_until(mu_, until)) {
  }
  ended = entries_.empty() && ended_;
  if (entries_.empty()) return std::nullopt;
  std::optional<Expected<Task>> next = std::move(entries_.front());
  entries_.pop_front();
  changed_.notify_all();  // room for the supply thread
  return next;
}

bool SupplyChannel::abandon() {
  MutexLock lock(mu_);
  abandoned_ = true;
  changed_.notify_all();
  // Once abandoned, the supply thread never marks the end: this is what it had done before.
  return ended_;
}

}  // namespace tasker
