#include "master/send_pipeline.h"

#include <algorithm>
#include <utility>

namespace tasker {

SendPipeline::SendPipeline(std::size_t senders, std::uint64_t already_sent, Send send, Record record)
    : senders_(std::max<std::size_t>(1, senders)),
      send_(std::move(send)),
      record_(std::move(record)),
      handed_over_(already_sent),
      sent_(already_sent) {
  for (std::size_t i = 0; i < senders_; ++i) threads_.emplace_back([this] { serve(); });
}

SendPipeline::~SendPipeline() { finish(); }

bool SendPipeline::dispatch(std::vector<Task> batch, std::uint64_t supplied) {
  std::unique_lock lock(mutex_);
  // At most one batch waits per sender, so the tasks read ahead stay bounded.
  changed_.wait(lock, [&] { return failed_ || waiting_.size() + busy_ < 2 * senders_; });
  if (failed_) return false;
  waiting_.push_back(Batch{std::move(batch), handed_over_, supplied});
  handed_over_ = supplied;
  changed_.notify_all();
  return true;
}

bool SendPipeline::finish() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failed_ || (waiting_.empty() && busy_ == 0); });
  closing_ = true;
  changed_.notify_all();
  lock.unlock();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  lock.lock();
  return !failed_;
}

void SendPipeline::serve() {
  while (true) {
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return closing_ || failed_ || !waiting_.empty(); });
      if (closing_ || failed_) return;
      batch = std::move(waiting_.front());
      waiting_.pop_front();
      ++busy_;
    }
    const bool sent = send_(batch.tasks);
    std::lock_guard lock(mutex_);
    --busy_;
    if (!sent) {
      failed_ = true;
    } else {
      sent_ahead_.emplace(batch.first, batch.last);
      const std::uint64_t before = sent_;
      // Batches finish in any order; the count moves only over an unbroken run of sent ones.
      for (auto next = sent_ahead_.find(sent_); next != sent_ahead_.end(); next = sent_ahead_.find(sent_)) {
        sent_ = next->second;
        sent_ahead_.erase(next);
      }
      if (sent_ != before && !record_(sent_)) failed_ = true;
    }
    changed_.notify_all();
  }
}

}  // namespace tasker
