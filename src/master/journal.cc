#include "master/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "model/json_util.h"
#include "util/log.h"

namespace tasker {
namespace {

constexpr int kVersion = 2;

// How a journal names an input or broker in its messages.
std::string named(const std::string& what) { return what == "-" ? "standard input" : "'" + what + "'"; }

// Checks a journal's header record against the run that opens it: the same queues, the same run
// when one is given, and the same broker and input when both sides know them.
Status check_header(const nlohmann::json& record, const std::string& path,
                    const Journal::Identity& wanted) {
  const std::string recorded_run = record.value("run", "");
  const std::string recorded_tasks = record.value("tasks", "");
  const std::string recorded_results = record.value("results", "");
  const std::string recorded_input = record.value("input", "");
  const std::string recorded_broker = record.value("broker", "");
  if (recorded_tasks != wanted.tasks_queue || recorded_results != wanted.results_queue) {
    return Error::invalid("state file " + path + " belongs to a run on queues " + recorded_tasks +
                          " / " + recorded_results + ", not " + wanted.tasks_queue + " / " +
                          wanted.results_queue);
  }
  if (!wanted.run_id.empty() && wanted.run_id != recorded_run) {
    return Error::invalid("state file " + path + " belongs to run " + recorded_run + ", not " +
                          wanted.run_id);
  }
  if (!recorded_broker.empty() && !wanted.broker.empty() && recorded_broker != wanted.broker) {
    return Error::invalid("state file " + path + " belongs to run " + recorded_run +
                          " on broker " + recorded_broker + ", not " + wanted.broker +
                          ": resume it on the same broker, or use another state file");
  }
  if (!recorded_input.empty() && !wanted.input.empty() && recorded_input != wanted.input) {
    return Error::invalid("state file " + path + " is run " + recorded_run + " of " +
                          named(recorded_input) + ", not of " + named(wanted.input) +
                          ": resume it with the same input, discard it (tasker run --fresh, or "
                          "delete the state file), or use another --state-dir / --state");
  }
  return Status::success();
}

// What reading an existing journal found.
struct Scan {
  bool exists = false;
  bool has_header = false;
  std::size_t records = 0;
  std::uint64_t whole_bytes = 0;  // the end of its last whole record
  std::uint64_t cut_bytes = 0;    // bytes of a cut last record after it
  bool needs_newline = false;     // its last record is whole but lacks its newline
};

// Reads the journal at `path` record by record, checking its header and handing its results on.
Expected<Scan> scan(const std::string& path, const Journal::Identity& wanted,
                    const std::function<void(const TaskResult&)>& on_result,
                    Journal::Recovered& recovered) {
  Scan found;
  std::ifstream in(path, std::ios::binary);
  if (!in) return found;
  found.exists = true;
  std::string line;
  std::uint64_t offset = 0;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const bool terminated = !in.eof();
    const std::uint64_t end = offset + line.size() + (terminated ? 1 : 0);
    auto record = line.empty() ? Expected<nlohmann::json>(Error::invalid("empty"))
                               : json_util::parse_object(line);
    if (!record && !terminated) {
      found.cut_bytes = line.size();
      break;
    }
    found.needs_newline = !terminated;
    offset = end;
    found.whole_bytes = end;
    if (!record) {
      if (!line.empty()) log::warn("state file {} line {}: not a journal record; skipped", path, number);
      continue;
    }
    ++found.records;
    if (record->contains("run")) {
      found.has_header = true;
      recovered.run_id = record->value("run", "");
      TASKER_TRY(check_header(*record, path, wanted));
    } else if (record->contains("submitted") && (*record)["submitted"].is_number_unsigned()) {
      recovered.submitted = std::max(recovered.submitted, (*record)["submitted"].get<std::uint64_t>());
      if (record->contains("digest") && (*record)["digest"].is_number_unsigned()) {
        recovered.digest = (*record)["digest"].get<std::uint64_t>();
      }
    } else if (record->contains("result")) {
      auto result = parse_result(json_util::dump((*record)["result"]));
      if (result) on_result(*result);
    }
  }
  return found;
}

}  // namespace

Status Journal::check(const std::string& path, const Identity& wanted) {
  Recovered ignored;
  auto found = scan(path, wanted, [](const TaskResult&) {}, ignored);
  if (!found) return found.error();
  return Status::success();
}

Expected<std::unique_ptr<Journal>> Journal::open(
    const std::string& path, const Identity& wanted, const std::string& fresh_run_id,
    const std::function<void(const TaskResult&)>& on_result, Recovered& recovered) {
  recovered = Recovered{};
  auto found = scan(path, wanted, on_result, recovered);
  if (!found) return found.error();
  if (found->records > 0 && !found->has_header) {
    return Error::invalid("state file " + path + " is not a tasker journal");
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error::invalid("state file " + path + ": " + std::strerror(errno));
  std::unique_ptr<Journal> journal(new Journal(path, fd));
  if (found->cut_bytes > 0) {
    // A crash mid-write: the cut record goes, so the next one starts on a line of its own.
    if (::ftruncate(fd, static_cast<off_t>(found->whole_bytes)) != 0) {
      return Error::unavailable("state file " + path + ": cannot cut off its damaged last record: " +
                                std::strerror(errno));
    }
    recovered.repaired = true;
    log::warn("state file {}: its last record was cut off ({} bytes, a crash mid-write); removed "
              "it, and the tasks it may have answered are sent again",
              path, found->cut_bytes);
  }
  if (found->needs_newline) TASKER_TRY(journal->append(""));
  if (!found->has_header) {
    recovered.run_id = wanted.run_id.empty() ? fresh_run_id : wanted.run_id;
    nlohmann::json header = {{"run", recovered.run_id},      {"tasks", wanted.tasks_queue},
                             {"results", wanted.results_queue}, {"version", kVersion}};
    if (!wanted.input.empty()) header["input"] = wanted.input;
    if (!wanted.broker.empty()) header["broker"] = wanted.broker;
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

Status Journal::record_submitted(std::uint64_t total, std::uint64_t digest) {
  return append(json_util::dump(nlohmann::json{{"submitted", total}, {"digest", digest}}));
}

Status Journal::sync() {
  MutexLock lock(mu_);
  if (::fdatasync(fd_) == 0) return Status::success();
  const int error = errno;
  return Error::unavailable("state file " + path_ + ": cannot make it durable (fdatasync): " +
                            std::strerror(error));
}

Status Journal::record_result(const TaskResult& result) {
  return append("{\"result\":" + to_json(result) + "}");
}

}  // namespace tasker
