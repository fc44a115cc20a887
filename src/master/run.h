#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <map>
#include <thread>
#include <unordered_set>
#include <vector>

#include "master/journal.h"
#include "master/progress.h"
#include "master/receive_helpers.h"
#include "master/send_pipeline.h"
#include "master/supply_channel.h"
#include "tasker/master.h"
#include "tasker/queue.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace tasker {

/// One run of the master, from opening its queues to its report; Master::run calls its steps in
/// order. Three threads share it, each with one job: the supply thread reads tasks ahead into a
/// SupplyChannel; the submitter takes them, skips what an earlier process of the run sent, and
/// hands the rest in batches to a SendPipeline, never more than the window unanswered; the
/// calling thread receives results and hands each task's first one to the handler, journaled
/// first and deleted after. Their shared state is guarded by mu_; every other member is set
/// before the threads start or belongs to one thread, as grouped below.
class Run {
 public:
  Run(Broker& broker, const MasterOptions& options, const std::atomic<bool>& stop_requested,
      const ResultHandler& on_result);
  /// Stops the threads if the run was left between start() and finish() (an exception).
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  /// Opens the queues and, with a state file, the journal (a resume): the results an earlier
  /// process of the run reduced go to the handler again, once each, and what it sent is not sent
  /// again.
  Status open();
  /// Starts the supply thread and the submitter (submit()).
  void start(const Supply& supply);
  /// The receive loop, on the calling thread: until every task is answered, the timeout, a stop
  /// request, or an error that ends the run.
  void receive();
  /// Stops the submitter and leaves the supply, then reports.
  Expected<RunReport> finish();

  /// The digest of no task: FNV-1a's offset basis.
  static constexpr std::uint64_t kEmptyDigest = 14695981039346656037ull;

 private:
  /// What admit() made of a task.
  enum class Admission { kAdmitted, kRepeated, kStopped };

  // Opening (the calling thread, before the threads start).
  Status open_queues();
  Status open_journal() EXCLUDES(mu_);
  void replay(const TaskResult& result);

  // Submitting (the submitter thread).
  void submit() EXCLUDES(mu_);
  bool submit_next() EXCLUDES(mu_);
  void count_invalid(const Error& error) EXCLUDES(mu_);
  void expect_earlier(Task task) EXCLUDES(mu_);
  bool check_earlier_input() EXCLUDES(mu_);
  void send_lost() EXCLUDES(mu_);
  bool submit_task(Task task) EXCLUDES(mu_);
  Admission admit(const Task& task) EXCLUDES(mu_);
  bool window_open() const REQUIRES(mu_);
  bool stopped() EXCLUDES(mu_);
  bool flush();
  void end_submitting() EXCLUDES(mu_);

  // Sending (the SendPipeline's threads).
  bool send_batch(const std::vector<Task>& batch) EXCLUDES(mu_);
  std::vector<OutgoingMessage> messages_of(const std::vector<Task>& batch) const;
  bool send_call(const std::vector<Task>& batch, const std::vector<OutgoingMessage>& messages,
                 std::vector<std::size_t> pending) EXCLUDES(mu_);
  std::vector<std::size_t> to_retry(const std::vector<Task>& batch,
                                    const std::vector<std::size_t>& pending,
                                    const std::vector<Status>& statuses) EXCLUDES(mu_);
  void refuse(const Task& task, const std::string& why) EXCLUDES(mu_);
  bool back_off(int attempt) EXCLUDES(mu_);
  bool record_sent(std::uint64_t sent) EXCLUDES(mu_);
  void fail(const Error& error) EXCLUDES(mu_);

  // Receiving (the calling thread).
  void begin_receiving();
  bool receive_once() EXCLUDES(mu_);
  bool answer_unsendable() EXCLUDES(mu_);
  bool run_is_over() EXCLUDES(mu_);
  void wait_while_submitting() EXCLUDES(mu_);
  void show_progress() EXCLUDES(mu_);
  std::chrono::milliseconds next_wait() const;
  bool earlier_tasks_read(std::chrono::milliseconds wait) EXCLUDES(mu_);
  bool receive_batch(std::chrono::milliseconds wait) EXCLUDES(mu_);
  bool receive_failed(const Error& error);
  void delete_handled();
  bool handle(const Message& message) EXCLUDES(mu_);
  std::optional<TaskResult> read_result(const Message& message);
  bool authentic(const Message& message);
  bool awaited(const std::string& id) EXCLUDES(mu_);
  bool never_handed(const TaskResult& result) const;
  bool collected_all();
  void drop_duplicate(const TaskResult& result);
  bool answer(const TaskResult& result) EXCLUDES(mu_);
  void deliver(const TaskResult& result);
  void drain_helpers() EXCLUDES(mu_);
  ProgressCounts counts() EXCLUDES(mu_);

  // Ending (the calling thread).
  void stop_submitting() EXCLUDES(mu_);
  void count_unanswered() REQUIRES(mu_);
  void leave_supply();
  Expected<RunReport> report() EXCLUDES(mu_);

  std::size_t calls_in_flight(const Queue& queue) const;

  Broker& broker_;
  const MasterOptions& options_;
  const std::atomic<bool>& stop_requested_;
  const ResultHandler& on_result_;

  // Set by open(), before the threads start; read-only after.
  std::unique_ptr<Queue> tasks_;
  std::unique_ptr<Queue> results_;  // none when submitting only
  std::unique_ptr<Journal> journal_;  // none without a state file; safe to call from any thread
  Journal::Recovered recovered_;
  std::string run_id_;
  // Results an earlier process of this run reduced (from the journal), by hash of their ids.
  std::unordered_set<std::uint64_t> answered_;

  // Shared by the submitter, the senders and the receiving thread.
  Mutex mu_;
  CondVar changed_;  // a task answered, the supply ended or read again, the run stopped or failed
  // Submitted, not yet answered; a run that only submits keeps every id sent, to refuse repeats.
  std::unordered_set<std::string> outstanding_ GUARDED_BY(mu_);
  std::uint64_t submitted_ GUARDED_BY(mu_) = 0;
  std::uint64_t invalid_ GUARDED_BY(mu_) = 0;
  bool supply_done_ GUARDED_BY(mu_) = false;
  // A resumed run has read again the tasks an earlier process sent, so their ids are outstanding:
  // until then a result cannot be told from a duplicate, and receiving waits.
  bool replayed_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;  // the receiving side has ended: send no more
  std::vector<TaskResult> unsendable_ GUARDED_BY(mu_);  // refused by the queue: answered here
  // The digest at each count handed to the pipeline, until the journal records it.
  std::map<std::uint64_t, std::uint64_t> digests_ GUARDED_BY(mu_);
  std::optional<Error> fatal_ GUARDED_BY(mu_);  // why submitting failed (a send, the journal)

  // The submitter's.
  std::optional<SendPipeline> pipeline_;
  std::vector<Task> batch_;
  std::uint64_t supplied_ = 0;  // entries taken from the supply that were tasks
  // The supply's count up to the last task put in the batch: what a sent batch completes. Not
  // supplied_, which may count a task that is still waiting for room in the window.
  std::uint64_t batched_ = 0;
  // A digest of every task supplied so far, in order (what a resume checks it reads again), and
  // its value at batched_.
  std::uint64_t digest_ = kEmptyDigest;
  std::uint64_t batched_digest_ = kEmptyDigest;
  // Earlier tasks to send again: the journal lost the record of their result (a cut last record).
  std::vector<Task> lost_;

  // The receiving thread's.
  RunReport report_;
  std::optional<Error> failure_;  // why the run ends with an error
  // Results this process handed over, by hash of their ids: a result of this run's id that is in
  // neither this set nor answered_ was never handed to anyone, so it is handed over, not dropped.
  std::unordered_set<std::uint64_t> delivered_;
  int quiet_receives_ = 0;  // receives in a row that brought no result of this run (collect)
  std::unordered_set<std::string> foreign_in_streak_;  // other runs' messages seen meanwhile
  std::vector<std::string> to_delete_;  // receipts of the batch in hand, deleted after it
  int receive_failures_ = 0;  // receives failed in a row
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::optional<ReceiveHelpers> helpers_;
  std::optional<Progress> progress_;
  std::int64_t running_ = -1;  // tasks in flight in the tasks queue, for progress; -1 unknown
  std::chrono::steady_clock::time_point last_depth_{};

  std::shared_ptr<SupplyChannel> channel_;
  std::thread supplier_;
  std::thread submitter_;
};

}  // namespace tasker
