#include "master/receive_helpers.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "util/log.h"

namespace tasker {

ReceiveHelpers::ReceiveHelpers(Queue& results, std::size_t helpers)
    : results_(results), helpers_(helpers) {
  for (std::size_t i = 0; i < helpers_; ++i) threads_.emplace_back(&ReceiveHelpers::serve, this);
}

ReceiveHelpers::~ReceiveHelpers() { finish(); }

void ReceiveHelpers::set_backlog(bool backlog) {
  MutexLock lock(mu_);
  backlog_ = backlog;
  changed_.notify_all();
}

std::optional<std::vector<Message>> ReceiveHelpers::take(std::chrono::milliseconds wait, bool& busy) {
  const auto until = CondVar::Clock::now() + wait;
  MutexLock lock(mu_);
  while (received_.empty() && on_their_way() && changed_.wait_until(mu_, until)) {
  }
  busy = received_.empty() && on_their_way();
  if (received_.empty()) return std::nullopt;
  std::vector<Message> batch = std::move(received_.front());
  received_.pop_front();
  changed_.notify_all();
  return batch;
}

// Helpers are on it while a backlog lasts or a receive of theirs is out; the loop's own long poll
// would then wait for messages they already hold.
bool ReceiveHelpers::on_their_way() const { return receiving_ > 0 || (backlog_ && helpers_ > 0); }

void ReceiveHelpers::delete_later(std::vector<std::string> receipts) {
  if (receipts.empty()) return;
  {
    MutexLock lock(mu_);
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
    MutexLock lock(mu_);
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
    MutexLock lock(mu_);
    stopping_ = true;
    changed_.notify_all();
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  std::vector<std::string> left;
  std::deque<Leave> to_leave;
  std::vector<std::vector<Message>> untaken;
  {
    MutexLock lock(mu_);
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

// A helper thread's one job: deletes, hand-backs and, during a backlog, short receives, until
// stopped.
void ReceiveHelpers::serve() {
  MutexLock lock(mu_);
  while (true) {
    while (!has_work()) changed_.wait(mu_);
    if (!to_delete_.empty()) {
      // Deletes first, and even while stopping: what was answered must leave the queue.
      delete_next();
    } else if (!to_leave_.empty()) {
      leave_next();
    } else if (stopping_) {
      return;
    } else {
      receive_more();
    }
  }
}

// Whether a helper has something to do: a delete, a hand-back, a receive during a backlog (while
// fewer batches are held or on their way than there are helpers), or stopping.
bool ReceiveHelpers::has_work() const {
  return stopping_ || !to_delete_.empty() || !to_leave_.empty() ||
         (backlog_ && received_.size() + receiving_ < helpers_);
}

// Deletes the next batch of receipts, the lock released during the call.
void ReceiveHelpers::delete_next() {
  const std::size_t count = std::min(to_delete_.size(), Queue::kMaxBatch);
  std::vector<std::string> chunk(std::make_move_iterator(to_delete_.begin()),
                                 std::make_move_iterator(to_delete_.begin() + count));
  to_delete_.erase(to_delete_.begin(), to_delete_.begin() + count);
  mu_.unlock();
  delete_now(chunk);
  mu_.lock();
}

// Hands the next result of another run back, the lock released during the call.
void ReceiveHelpers::leave_next() {
  auto [receipt, visible_in] = std::move(to_leave_.front());
  to_leave_.pop_front();
  mu_.unlock();
  leave_now(receipt, visible_in);
  mu_.lock();
}

// Receives one more batch for the loop with a short poll, the lock released during the call: it
// returns at once, so stopping never waits on it.
void ReceiveHelpers::receive_more() {
  ++receiving_;
  mu_.unlock();
  auto got = results_.receive(Queue::kMaxBatch, std::chrono::milliseconds(0));
  mu_.lock();
  --receiving_;
  if (got && !got->empty()) {
    if (got->size() < Queue::kMaxBatch) backlog_ = false;
    received_.push_back(std::move(*got));
  } else {
    backlog_ = false;  // an error shows in the loop's own next receive, which reports it
  }
  changed_.notify_all();
}

}  // namespace tasker
