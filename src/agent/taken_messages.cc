#include "agent/taken_messages.h"

#include <algorithm>

#include "util/log.h"

namespace tasker::agent {

TakenMessages::TakenMessages(std::unique_ptr<Queue> tasks, Counters& counters)
    : tasks_(std::move(tasks)), counters_(counters) {}

Expected<std::vector<Message>> TakenMessages::receive(std::size_t max_messages,
                                                      std::chrono::milliseconds wait,
                                                      std::chrono::seconds visibility,
                                                      std::stop_token stop) {
  return tasks_->receive(max_messages, wait, visibility, std::move(stop));
}

void TakenMessages::hold(const std::string& receipt) {
  MutexLock lock(mu_);
  held_.insert(receipt);
}

void TakenMessages::hand_back(const std::string& receipt, std::string_view why) {
  if (auto status = tasks_->release(receipt); !status)
    counters_.queue_error(status.error(), "release");
  let_go(receipt);
  counters_.released();
  log::info("handed back a task ({})", why);
}

void TakenMessages::drop(const std::string& receipt) {
  if (auto acked = tasks_->ack({receipt}); !acked) counters_.queue_error(acked.error(), "delete");
  let_go(receipt);
}

void TakenMessages::delete_answered(const std::vector<std::string>& receipts) {
  for (std::size_t start = 0; start < receipts.size(); start += Queue::kMaxBatch) {
    const std::size_t end = std::min(receipts.size(), start + Queue::kMaxBatch);
    std::vector<std::string> batch(receipts.begin() + start, receipts.begin() + end);
    if (auto acked = tasks_->ack(batch); !acked) {
      counters_.queue_error(acked.error(), "delete answered tasks");
    } else {
      for (const auto& status : *acked) {
        if (!status) counters_.queue_error(status.error(), "delete answered task");
      }
    }
    for (const auto& receipt : batch) let_go(receipt);
  }
}

void TakenMessages::extend_all(std::chrono::seconds visibility) {
  std::vector<std::string> receipts;
  {
    MutexLock lock(mu_);
    receipts.assign(held_.begin(), held_.end());
  }
  for (const auto& receipt : receipts) {
    if (auto status = tasks_->extend(receipt, visibility); !status) {
      counters_.queue_error(status.error(), "extend visibility");
    }
  }
}

void TakenMessages::let_go(const std::string& receipt) {
  MutexLock lock(mu_);
  held_.erase(receipt);
}

}  // namespace tasker::agent
