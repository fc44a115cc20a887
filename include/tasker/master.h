#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tasker/error.h"
#include "tasker/queue.h"
#include "tasker/result.h"
#include "tasker/signing.h"
#include "tasker/task.h"

namespace tasker {

/// Yields the run's tasks one at a time, lazily; nullopt at the end. An error value is reported
/// (its message names the input, e.g. a line number) and the run goes on with the next task.
using Supply = std::function<std::optional<Expected<Task>>()>;

/// How a master runs.
struct MasterOptions {
  std::string tasks_queue;
  std::string results_queue;
  /// Marks every task of this run (`runId`); results of other runs are left for their masters.
  /// Generated when empty.
  std::string run_id;
  /// Append-only journal of what was submitted and which results were reduced; a master started
  /// again with the same file resumes: it resubmits nothing already sent and reduces nothing twice.
  std::optional<std::string> state_file;
  /// What the supply reads, as the journal records it: an absolute file path, "-" for standard
  /// input, "" when not known. A journal of another input is refused; a resume also checks that
  /// the tasks it reads again are the ones sent (a digest in the journal), whatever the input.
  std::string input;
  /// The broker's address, as the journal records it: a journal of another broker is refused.
  std::string broker;
  /// A resumed run hands the results its journal holds to the handler again, once each (so an
  /// in-memory reduction is whole); false hands it only the results new to this process (the
  /// CLI's default, so each result is printed once across a kill and its resume), counting the
  /// others in the report.
  bool replay = true;
  /// Collect the run's results: every result of this run's id (run_id must be set) that no task
  /// of this process waits for is handed to the handler too, journaled, and deleted after; the run
  /// ends once its own tasks are answered, kCollectQuietReceives receives in a row bring no result
  /// of the run, and no message of the results queue is in flight (a killed collector's come back
  /// after their visibility timeout). `tasker results RUN`, `submit --wait --run-id RUN`. Without
  /// it a result for a task id the run never had is dropped (a run knows all its tasks).
  bool collect = false;
  /// Most tasks submitted but not yet answered at once; bounds the master's memory.
  std::size_t window = 100000;
  /// Give up waiting after this long, reporting what is missing. Zero means wait for ever.
  std::chrono::milliseconds timeout{0};
  /// Don't wait for results at all: submit and return (`tasker submit` without --wait).
  bool submit_only = false;
  /// Progress: a bar on a terminal, JSON lines otherwise, or nothing.
  enum class Progress { kNone, kBar, kJsonLines } progress = Progress::kNone;
  /// Queue calls in flight at once, sending tasks and, while results come faster than one call
  /// takes them, receiving and deleting results; 0: what the queue suggests
  /// (Queue::concurrent_calls()). With more than one, tasks may reach the queue slightly out of
  /// supply order.
  std::size_t calls_in_flight = 0;
  /// Longest long-poll wait of one receive of results.
  std::chrono::milliseconds poll_wait{2000};
  /// When set and it becomes true (e.g. from a signal), the run ends as by request_stop().
  const std::atomic<bool>* interrupt = nullptr;
  /// When set, every task message is signed (the `tasker-signature` attribute), for agents that
  /// require signed tasks, and only results signed with the same key (by such agents) are
  /// reduced: any other message on the results queue is dropped with a log line and deleted.
  std::optional<SigningKey> signing_key;
};

/// Receives in a row that bring no result of the run before a collecting run ends.
inline constexpr int kCollectQuietReceives = 3;

/// What a run did.
struct RunReport {
  std::string run_id;
  std::uint64_t submitted = 0;     ///< Tasks sent to the queue (this process and earlier ones).
  std::uint64_t invalid = 0;       ///< Tasks the supply could not give (bad input), not sent.
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t duplicates = 0;    ///< Repeated results dropped (at-least-once delivery).
  std::uint64_t foreign = 0;       ///< Results of other runs seen and left for their masters.
  std::uint64_t unauthenticated = 0;  ///< With a signing key: unsigned or forged results dropped.
  bool timed_out = false;
  bool interrupted = false;        ///< Ended by request_stop() before every result was in.
  std::vector<std::string> missing;  ///< Ids without a result at the timeout (up to 1000).
  std::uint64_t missing_count = 0;
};

/// Called once per task id with its result (duplicates are dropped before it).
using ResultHandler = std::function<void(const TaskResult&)>;

/// The master: streams tasks from a supply into the tasks queue in batches, receives results in
/// batches, hands each task's first result to the handler once, and deletes results only after
/// the handler (and the journal) has them.
class Master {
 public:
  Master(Broker& broker, MasterOptions options);

  /// Runs to the end: every submitted task answered, the timeout, or a stop request.
  Expected<RunReport> run(const Supply& supply, const ResultHandler& on_result);

  /// Ends a run early (e.g. on Ctrl-C): it returns with `interrupted` set; with a state file it
  /// can be resumed. Thread-safe.
  void request_stop() { stop_requested_ = true; }

 private:
  Broker& broker_;
  MasterOptions options_;
  std::atomic<bool> stop_requested_{false};
};

/// docker-tasker's three parts in C++: `supply` yields tasks lazily, `reduce(result, acc)` is
/// called once per task id, `termination(acc)` once at the end.
template <class Accumulator>
struct Job {
  Supply supply;
  std::function<void(const TaskResult&, Accumulator&)> reduce;
  std::function<void(Accumulator&)> termination;
  Accumulator accumulator{};
};

/// Runs a Job on a master: reduce for every result, then termination.
template <class Accumulator>
Expected<RunReport> run_job(Master& master, Job<Accumulator>& job) {
  auto report = master.run(job.supply,
                           [&job](const TaskResult& result) { job.reduce(result, job.accumulator); });
  if (report) job.termination(job.accumulator);
  return report;
}

/// A fresh random run id (12 hex digits).
std::string new_run_id();

}  // namespace tasker
