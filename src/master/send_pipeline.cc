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
  for (std::size_t i = 0; i < senders_; ++i) threads_.emplace_back(&SendPipeline::serve, this);
}

SendPipeline::~SendPipeline() { finish(); }

bool SendPipeline::dispatch(std::vector<Task> batch, std::uint64_t supplied) {
  MutexLock lock(mu_);
  // At most one batch waits per sender, so the tasks read ahead stay bounded.
  while (!failed_ && waiting_.size() + busy_ >= 2 * senders_) changed_.wait(mu_);
  if (failed_) return false;
  waiting_.push_back(Batch{std::move(batch), handed_over_, supplied});
  handed_over_ = supplied;
  changed_.notify_all();
  return true;
}

bool SendPipeline::finish() {
  {
    MutexLock lock(mu_);
    while (!failed_ && (!waiting_.empty() || busy_ > 0)) changed_.wait(mu_);
    closing_ = true;
    changed_.notify_all();
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  MutexLock lock(mu_);
  return !failed_;
}

// A sender thread's one job: batches off the queue, sent one at a time.
void SendPipeline::serve() {
  Batch batch;
  while (take(batch)) sent(batch, send_(batch.tasks));
}

// Waits for the next batch to send; false when the pipeline closes or has failed.
bool SendPipeline::take(Batch& batch) {
  MutexLock lock(mu_);
  while (!closing_ && !failed_ && waiting_.empty()) changed_.wait(mu_);
  if (closing_ || failed_) return false;
  batch = std::move(waiting_.front());
  waiting_.pop_front();
  ++busy_;
  return true;
}

// A batch is done (`ok`: sent): the sent count moves over it and is recorded, or, when it failed,
// nothing more is sent.
void SendPipeline::sent(const Batch& batch, bool ok) {
  MutexLock lock(mu_);
  --busy_;
  if (!ok) {
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

}  // namespace tasker
