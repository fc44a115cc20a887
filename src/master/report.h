#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tasker/error.h"
#include "tasker/result.h"

namespace tasker {

/// What `tasker report` draws: a run's results, as its journal or a results file holds them.
struct ReportInput {
  std::string title;  ///< Shown at the top: the run id, or the file it was read from.
  std::string source;  ///< The file read.
  std::string run_id;  ///< From a journal's header; empty for a results file.
  /// Tasks sent, from a journal's last "submitted" record (0 when it has none).
  std::uint64_t submitted = 0;
  /// The journal is one a finished `tasker run` keeps (run-ID.journal).
  bool finished = false;
  std::vector<TaskResult> results;
  /// Lines of the source that were neither a result nor a journal record, counted and said.
  std::size_t unreadable_lines = 0;
};

/// Reads `path` (an error names it when it cannot be read): a state directory (its run.journal, else its newest finished run-*.journal), a
/// journal, or a file of result JSON lines (what `tasker run` prints). A journal's results are
/// its {"result": ...} records; its other records are skipped. A task answered more than once
/// keeps its first result, as the master reduces it.
Expected<ReportInput> read_report_input(const std::string& path);

/// Limits that keep a report of a very large run readable and quick to draw.
struct ReportLimits {
  /// Above this many placed tasks the timeline draws, per lane, how many tasks ran in each of
  /// `bins` time slices (shaded by their failed share) instead of one bar per task.
  std::size_t max_task_bars = 5000;
  std::size_t bins = 400;
  /// Failure rows listed; the rest are counted below the table.
  std::size_t max_failure_rows = 1000;
};

/// One self-contained HTML page (inline SVG and CSS; no script, no network): the counts, a
/// timeline of every task per agent slot coloured by outcome, throughput over time, the duration
/// distribution, and the failures with their error class, exit code and reason. Every text taken
/// from a result is escaped. Tasks whose results carry no start time (docker-tasker's agent
/// writes none) are counted and listed but not placed on the timeline.
std::string render_report(const ReportInput& input, const ReportLimits& limits = {});

/// Where a run stands, for `tasker status`.
struct RunStatus {
  std::uint64_t submitted = 0, succeeded = 0, failed = 0;
  std::uint64_t waiting = 0;  ///< Submitted tasks without a result yet.
  /// Tasks ended per second over the last minute of ends seen (over the whole run when it is
  /// shorter); 0 when results carry no times.
  double rate = 0;
  std::optional<double> eta_seconds;  ///< waiting / rate, when both are known and waiting > 0.
  std::vector<TaskResult> failures;
};

/// Counts `input` as of `now_ms` (milliseconds since the epoch).
RunStatus run_status(const ReportInput& input, std::int64_t now_ms);

/// The journals a state directory holds, newest first: its live run.journal and the finished
/// runs' run-ID.journal, each read as read_report_input() reads one.
Expected<std::vector<ReportInput>> runs_of_state_dir(const std::string& dir);

/// The run as GNU parallel's --joblog writes it: a header line, then one tab-separated line per
/// task in the order the results came: Seq, Host (the agent), Starttime (Unix seconds), JobRuntime
/// (seconds), Send (0: not known), Receive (the payload's bytes), Exitval, Signal (9 for a task
/// killed for its timeout or memory, else 0) and Command (the task id: results do not carry the
/// command). A value a result lacks is 0 (Host: "-").
std::string render_joblog(const ReportInput& input);

}  // namespace tasker
