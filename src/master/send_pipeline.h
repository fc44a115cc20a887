#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "tasker/task.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace tasker {

/// Sends the master's batches of tasks on a few threads, so several send calls are in flight at
/// once (an SQS call mostly waits on the network), and says how far the supply is sent: the count
/// of supplied tasks below which every batch is in the queue. Only that count may go to the
/// journal, so a resumed run never skips a task whose batch was still on its way.
class SendPipeline {
 public:
  /// Sends one batch until it is in the queue (or answered locally); false when the run must stop.
  using Send = std::function<bool(const std::vector<Task>&)>;
  /// Told each new sent count, in increasing order, one call at a time; false when the run must
  /// stop (the journal could not be written).
  using Record = std::function<bool(std::uint64_t)>;

  /// `senders` threads (at least one); `already_sent` is the count an earlier process of the run
  /// sent, where the first batch starts.
  SendPipeline(std::size_t senders, std::uint64_t already_sent, Send send, Record record);
  /// Waits for what was handed over, as finish() does.
  ~SendPipeline();
  SendPipeline(const SendPipeline&) = delete;
  SendPipeline& operator=(const SendPipeline&) = delete;

  /// Hands over a batch that completes the supply up to task number `supplied`, waiting while
  /// every sender is busy. False once a send or a record failed: nothing more is sent.
  bool dispatch(std::vector<Task> batch, std::uint64_t supplied) EXCLUDES(mu_);

  /// Waits until every batch handed over is sent or has failed, and stops the threads. False when
  /// anything failed.
  bool finish() EXCLUDES(mu_);

 private:
  struct Batch {
    std::vector<Task> tasks;
    std::uint64_t first = 0;  // the supply's count before this batch
    std::uint64_t last = 0;   // ... and with it
  };
  void serve() EXCLUDES(mu_);
  bool take(Batch& batch) EXCLUDES(mu_);
  void sent(const Batch& batch, bool ok) EXCLUDES(mu_);

  const std::size_t senders_;
  const Send send_;
  const Record record_;

  Mutex mu_;  // held while recording, so records stay in order
  CondVar changed_;
  std::deque<Batch> waiting_ GUARDED_BY(mu_);
  std::size_t busy_ GUARDED_BY(mu_) = 0;
  std::uint64_t handed_over_ GUARDED_BY(mu_) = 0;  // where the next batch starts
  std::uint64_t sent_ GUARDED_BY(mu_) = 0;         // every batch below this count is in the queue
  // first -> last of batches sent above sent_
  std::map<std::uint64_t, std::uint64_t> sent_ahead_ GUARDED_BY(mu_);
  bool failed_ GUARDED_BY(mu_) = false;
  bool closing_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // the constructing thread's
};

}  // namespace tasker
