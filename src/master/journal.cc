#include "master/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "model/json_util.h"
#include "model/line_reader.h"

namespace tasker {
namespace {

// Checks a journal's header record against the run that opens it: the same queues, and the same
// run when one is given.
Status check_header(const nlohmann::json& record, const std::string& path, const std::string& run_id,
                    const std::string& tasks_queue, const std::string& results_queue) {
  const std::string recorded_run = record.value("run", "");
  const std::string recorded_tasks = record.value("tasks", "");
  const std::string recorded_results = record.value("results", "");
  if (recorded_tasks != tasks_queue || recorded_results != results_queue) {
    return Error::invalid("state file " + path + " belongs to a run on queues " + recorded_tasks +
                          " / " + recorded_results + ", not " + tasks_queue + " / " + results_queue);
  }
  if (!run_id.empty() && run_id != recorded_run) {
    return Error::invalid("state file " + path + " belongs to run " + recorded_run + ", not " + run_id);
  }
  return Status::success();
}

}  // namespace

Expected<std::unique_ptr<Journal>> Journal::open(
    const std::string& path, const std::string& run_id, const std::string& fresh_run_id,
    const std::string& tasks_queue,
    const std::string& results_queue, const std::function<void(const TaskResult&)>& on_result,
    Recovered& recovered) {
  recovered = Recovered{};
  bool fresh = true;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      LineReader reader(in, 1 << 20);
      LineReader::Line line;
      std::size_t lines = 0;
      while (reader.next(line)) {
        if (line.too_long || line.text.empty()) continue;
        auto record = json_util::parse_object(line.text);
        if (!record) continue;  // a torn last line from a killed process
        ++lines;
        if (record->contains("run")) {
          fresh = false;
          recovered.run_id = record->value("run", "");
          TASKER_TRY(check_header(*record, path, run_id, tasks_queue, results_queue));
        } else if (record->contains("submitted") && (*record)["submitted"].is_number_unsigned()) {
          recovered.submitted = (*record)["submitted"].get<std::uint64_t>();
        } else if (record->contains("result")) {
          auto result = parse_result(json_util::dump((*record)["result"]));
          if (result) on_result(*result);
        }
      }
      if (lines > 0 && fresh) return Error::invalid("state file " + path + " is not a tasker journal");
    }
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error::invalid("state file " + path + ": " + std::strerror(errno));
  std::unique_ptr<Journal> journal(new Journal(path, fd));
  if (fresh) {
    recovered.run_id = run_id.empty() ? fresh_run_id : run_id;
    nlohmann::json header = {{"run", recovered.run_id}, {"tasks", tasks_queue}, {"results", results_queue}};
    TASKER_TRY(journal->append(json_util::dump(header)));
  }
  return journal;
}

Journal::~Journal() { ::close(fd_); }

Status Journal::append(const std::string& line) {
  const std::string record = line + "\n";
  MutexLock lock(mu_);
  const ssize_t written = ::write(fd_, record.data(), record.size());
  if (written != static_cast<ssize_t>(record.size())) {
    const int error = written < 0 ? errno : ENOSPC;
    // Cut a partial record back off, so the journal stays readable.
    if (written > 0) {
      const off_t end = ::lseek(fd_, 0, SEEK_END);
      if (end >= written && ::ftruncate(fd_, end - written) != 0) {
        // Recovery skips a torn line anyway.
      }
    }
    const std::string message = "state file " + path_ + ": write failed: " + std::strerror(error);
    if (error == ENOSPC || error == EDQUOT) {
      return Error::no_space(message + "; free space on its disk, then run again to resume");
    }
    return Error::unavailable(message);
  }
  return Status::success();
}

Status Journal::record_submitted(std::uint64_t total) {
  return append(json_util::dump(nlohmann::json{{"submitted", total}}));
}

Status Journal::record_result(const TaskResult& result) {
  return append("{\"result\":" + to_json(result) + "}");
}

}  // namespace tasker
