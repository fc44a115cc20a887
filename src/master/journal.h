#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tasker/error.h"
#include "tasker/result.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace tasker {

/// The master's state file: an append-only JSON-lines journal of the run — a header saying what
/// it is a run of (its id, queues, broker and input), how many tasks were submitted with a digest
/// of them, and every result reduced. A master started again with the same file reads it back and
/// resumes. Each record is written with one write(2); sync() makes what was written durable, and
/// a result is deleted from the queue only after it. A killed process or a power loss leaves at
/// most a cut last record, which open() reports and cuts off. Safe to call from several threads:
/// records are appended one at a time.
class Journal {
 public:
  /// What a run is: a journal of another is refused.
  struct Identity {
    std::string run_id;  ///< Empty when opening: any run (a new file gets `fresh_run_id`).
    std::string tasks_queue;
    std::string results_queue;
    std::string input;   ///< What the tasks are read from ("-": standard input); "" unknown.
    std::string broker;  ///< The broker's address; "" unknown.
  };

  /// What an existing journal says.
  struct Recovered {
    std::string run_id;
    std::uint64_t submitted = 0;
    /// The digest of the first `submitted` tasks (Run's task_digest()), when recorded.
    std::optional<std::uint64_t> digest;
    /// The journal's last record was cut off (a crash mid-write); it was removed, and so may be
    /// the result it held.
    bool repaired = false;
  };

  /// Opens (or creates) the journal at `path` for the run `wanted`. For an existing file,
  /// `on_result` receives every journaled result in order; the returned Recovered says the run id
  /// and submission count. An existing file of another run (when wanted.run_id is given), of other
  /// queues, another broker or another input is an error saying so. A new file is written for
  /// wanted.run_id, or for `fresh_run_id` when it is empty.
  static Expected<std::unique_ptr<Journal>> open(const std::string& path, const Identity& wanted,
                                                 const std::string& fresh_run_id,
                                                 const std::function<void(const TaskResult&)>& on_result,
                                                 Recovered& recovered);
  /// Checks, without changing it, that a journal at `path` (if any) is of the run `wanted`, as
  /// open() would: for a caller that must know before it starts anything else.
  static Status check(const std::string& path, const Identity& wanted);
  ~Journal();

  /// Records that the first `total` tasks of the supply, whose digest is `digest`, have been sent.
  Status record_submitted(std::uint64_t total, std::uint64_t digest) EXCLUDES(mu_);
  /// Records a result before it is reduced and deleted from the queue.
  Status record_result(const TaskResult& result) EXCLUDES(mu_);
  /// Makes every record written so far durable (fdatasync): called before the results they hold
  /// are deleted from the queue, so a power loss cannot lose a result the queue no longer has.
  Status sync() EXCLUDES(mu_);

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status append(const std::string& line) EXCLUDES(mu_);

  const std::string path_;
  Mutex mu_;  // one record at a time, so a partial write can be cut back off
  const int fd_ GUARDED_BY(mu_);
};

}  // namespace tasker
