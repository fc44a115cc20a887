#include "master/receive_helpers.h"

#include <algorithm>
#include <utility>

#include "util/log.h"

namespace tasker {

ReceiveHelpers::ReceiveHelpers(Queue& results, std::size_t helpers)
    : results_(results), helpers_(helpers) {
  for (std::size_t i = 0; i < helpers_; ++i) threads_.emplace_back([this] { serve(); });
}

ReceiveHelpers::~ReceiveHelpers() { finish(); }

void ReceiveHelpers::set_backlog(bool backlog) {
  std::lock_guard lock(mutex_);
  backlog_ = backlog;
  changed_.notify_all();
}

std::optional<std::vector<Message>> ReceiveHelpers::take(std::chrono::milliseconds wait, bool& busy) {
  std::unique_lock lock(mutex_);
  // Helpers are on it while a backlog lasts or a receive of theirs is out; the loop's own long
  // poll would then wait for messages they already hold.
  auto on_their_way = [&] { return receiving_ > 0 || (backlog_ && helpers_ > 0); };
  changed_.wait_for(lock, wait, [&] { return !received_.empty() || !on_their_way(); });
  busy = received_.empty() && on_their_way();
  if (received_.empty()) return std::nullopt;
  std::vector<Message> batch = std::move(received_.front());
  received_.pop_front();
  changed_.notify_all();
  return batch;
}

void ReceiveHelpers::delete_later(std::vector<std::string> receipts) {
  if (receipts.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (helpers_ > 0 && !stopping_) {
      for (auto& receipt : receipts) to_delete_.push_back(std::move(receipt));
      changed_.notify_all();
      return;
    }
  }
  delete_now(receipts);  // no helpers, or they have stopped
}

void ReceiveHelpers::leave_later(std::string receipt, std::chrono::seconds visible_in) {
  {
    std::lock_guard lock(mutex_);
    if (helpers_ > 0 && !stopping_) {
      to_leave_.emplace_back(std::move(receipt), visible_in);
      changed_.notify_all();
      return;
    }
  }
  leave_now(receipt, visible_in);  // no helpers, or they have stopped
}

std::vector<std::vector<Message>> ReceiveHelpers::finish() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  std::vector<std::string> left;
  std::deque<std::pair<std::string, std::chrono::seconds>> to_leave;
  std::vector<std::vector<Message>> untaken;
  {
    std::lock_guard lock(mutex_);
    left.assign(to_delete_.begin(), to_delete_.end());
    to_delete_.clear();
    to_leave.swap(to_leave_);
    untaken.assign(std::make_move_iterator(received_.begin()), std::make_move_iterator(received_.end()));
    received_.clear();
  }
  delete_now(left);
  for (const auto& [receipt, visible_in] : to_leave) leave_now(receipt, visible_in);
  return untaken;
}

void ReceiveHelpers::delete_now(const std::vector<std::string>& receipts) {
  for (std::size_t start = 0; start < receipts.size(); start += Queue::kMaxBatch) {
    std::vector<std::string> chunk(receipts.begin() + start,
                                   receipts.begin() + std::min(receipts.size(), start + Queue::kMaxBatch));
    // A failed delete only means the result comes again and is dropped as a duplicate.
    if (auto acked = results_.ack(chunk); !acked) log::warn("deleting results: {}", acked.error().message);
  }
}

void ReceiveHelpers::leave_now(const std::string& receipt, std::chrono::seconds visible_in) {
  // On failure it shows up again after its visibility timeout instead, later but not lost.
  if (auto status = results_.extend(receipt, visible_in); !status) {
    log::debug("leaving another run's result: {}", status.error().message);
  }
}

void ReceiveHelpers::serve() {
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] {
      return stopping_ || !to_delete_.empty() || !to_leave_.empty() ||
             (backlog_ && received_.size() + receiving_ < helpers_);
    });
    if (!to_delete_.empty()) {
      // Deletes first, and even while stopping: what was answered must leave the queue.
      const std::size_t count = std::min(to_delete_.size(), Queue::kMaxBatch);
      std::vector<std::string> chunk(std::make_move_iterator(to_delete_.begin()),
                                     std::make_move_iterator(to_delete_.begin() + count));
      to_delete_.erase(to_delete_.begin(), to_delete_.begin() + count);
      lock.unlock();
      delete_now(chunk);
      lock.lock();
      continue;
    }
    if (!to_leave_.empty()) {
      auto [receipt, visible_in] = std::move(to_leave_.front());
      to_leave_.pop_front();
      lock.unlock();
      leave_now(receipt, visible_in);
      lock.lock();
      continue;
    }
    if (stopping_) return;
    ++receiving_;
    lock.unlock();
    // A short poll: it returns at once, so stopping never waits on it.
    auto got = results_.receive(Queue::kMaxBatch, std::chrono::milliseconds(0));
    lock.lock();
    --receiving_;
    if (got && !got->empty()) {
      if (got->size() < Queue::kMaxBatch) backlog_ = false;
      received_.push_back(std::move(*got));
    } else {
      backlog_ = false;  // an error shows in the loop's own next receive, which reports it
    }
    changed_.notify_all();
  }
}

}  // namespace tasker
