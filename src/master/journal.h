#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "tasker/error.h"
#include "tasker/result.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace tasker {

/// The master's state file: an append-only JSON-lines journal of the run (its id and queues),
/// how many tasks were submitted, and every result reduced. A master started again with the same
/// file reads it back and resumes. Each record is written with one write(2), so a killed process
/// leaves at most a torn last line, which recovery ignores. Safe to call from several threads:
/// records are appended one at a time.
class Journal {
 public:
  /// What an existing journal says.
  struct Recovered {
    std::string run_id;
    std::uint64_t submitted = 0;
  };

  /// Opens (or creates) the journal at `path` for a run on these queues. For an existing file,
  /// `on_result` receives every journaled result in order; the returned Recovered says the run id
  /// and submission count. An existing file of another run (when `run_id` is given) or of other
  /// queues is an error. A new file is written for `run_id`, or for `fresh_run_id` when it is empty.
  static Expected<std::unique_ptr<Journal>> open(const std::string& path, const std::string& run_id,
                                                 const std::string& fresh_run_id,
                                                 const std::string& tasks_queue,
                                                 const std::string& results_queue,
                                                 const std::function<void(const TaskResult&)>& on_result,
                                                 Recovered& recovered);
  ~Journal();

  /// Records that `total` tasks of the supply have been sent.
  Status record_submitted(std::uint64_t total) EXCLUDES(mu_);
  /// Records a result before it is reduced and deleted from the queue.
  Status record_result(const TaskResult& result) EXCLUDES(mu_);

 private:
  Journal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status append(const std::string& line) EXCLUDES(mu_);

  const std::string path_;
  Mutex mu_;  // one record at a time, so a partial write can be cut back off
  const int fd_ GUARDED_BY(mu_);
};

}  // namespace tasker
