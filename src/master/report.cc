#include "master/report.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "model/json_util.h"
#include "model/line_reader.h"

namespace tasker {
namespace fs = std::filesystem;
namespace {

constexpr double kPlotWidth = 1000;  // px of the time axis
constexpr double kLaneHeight = 12;
constexpr double kLeftMargin = 150;  // px for the lane labels

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// The journal a state directory's report is drawn from: the live or interrupted run's, else the
// newest finished one.
Expected<std::string> journal_of_state_dir(const fs::path& dir) {
  if (fs::exists(dir / "run.journal")) return (dir / "run.journal").string();
  std::error_code ec;
  fs::path newest;
  fs::file_time_type newest_time{};
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("run-") || !name.ends_with(".journal")) continue;
    const auto time = entry.last_write_time(ec);
    if (newest.empty() || time > newest_time) newest = entry.path(), newest_time = time;
  }
  if (newest.empty()) {
    return Error::invalid("state directory " + dir.string() +
                          " holds no journal (run.journal or run-ID.journal)");
  }
  return newest.string();
}

// A task placed on the timeline: its lane and its span in ms since the run's first start.
struct Placed {
  const TaskResult* result;
  std::int64_t start, end;
  std::size_t lane;
};

struct Timeline {
  std::vector<Placed> tasks;
  std::vector<std::string> lanes;  // "agent #slot"
  std::vector<std::string> agents;
  std::vector<std::size_t> agent_of_lane;
  std::int64_t origin = 0;         // ms since the epoch of the first start
  std::int64_t span = 1;           // ms from the first start to the last end
};

// Places every task with a start time on a lane of its agent: the lowest one free when it
// starts, so an agent's lanes are its busy slots.
Timeline place(const std::vector<TaskResult>& results) {
  Timeline timeline;
  std::map<std::string, std::vector<const TaskResult*>> by_agent;
  for (const TaskResult& r : results) {
    if (r.started_at_ms && r.duration_ms) by_agent[r.agent.value_or("(unnamed agent)")].push_back(&r);
  }
  if (by_agent.empty()) return timeline;
  std::int64_t first = INT64_MAX, last = INT64_MIN;
  for (auto& [agent, tasks] : by_agent) {
    std::sort(tasks.begin(), tasks.end(), [](auto* a, auto* b) { return *a->started_at_ms < *b->started_at_ms; });
    timeline.agents.push_back(agent);
    std::vector<std::int64_t> lane_free;  // per lane of this agent: when its last task ended
    for (const TaskResult* r : tasks) {
      const std::int64_t start = *r->started_at_ms, end = start + std::max<std::int64_t>(*r->duration_ms, 0);
      std::size_t lane = 0;
      while (lane < lane_free.size() && lane_free[lane] > start) ++lane;
      if (lane == lane_free.size()) {
        lane_free.push_back(end);
        timeline.lanes.push_back(agent + " #" + std::to_string(lane + 1));
        timeline.agent_of_lane.push_back(timeline.agents.size() - 1);
      }
      lane_free[lane] = end;
      const std::size_t index = timeline.lanes.size() - lane_free.size() + lane;
      timeline.tasks.push_back({r, start, end, index});
      first = std::min(first, start);
      last = std::max(last, end);
    }
  }
  timeline.origin = first;
  timeline.span = std::max<std::int64_t>(last - first, 1);
  for (Placed& p : timeline.tasks) p.start -= first, p.end -= first;
  return timeline;
}

double x_of(const Timeline& t, std::int64_t ms) {
  return kLeftMargin + static_cast<double>(ms) / static_cast<double>(t.span) * kPlotWidth;
}

std::string seconds(std::int64_t ms) { return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000); }

// The time axis under a chart whose plot ends at `y`: five ticks in seconds since the start.
std::string time_axis(const Timeline& t, double y) {
  std::string svg;
  for (int i = 0; i <= 4; ++i) {
    const std::int64_t ms = t.span * i / 4;
    svg += fmt::format(R"(<text class="tick" text-anchor="{}" x="{:.1f}" y="{:.1f}">{}</text>)",
                       i == 0 ? "start" : i == 4 ? "end" : "middle", x_of(t, ms), y + 12, seconds(ms));
  }
  return svg;
}

std::string row_labels(const std::vector<std::string>& rows) {
  std::string svg;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    svg += fmt::format(R"(<text class="lane" x="4" y="{:.1f}">{}</text>)",
                       (static_cast<double>(i) + 0.8) * kLaneHeight, escape(rows[i]));
  }
  return svg;
}

// One bar per task, its tooltip the task's id, outcome and duration.
std::string task_bars(const Timeline& t) {
  std::string svg;
  for (const Placed& p : t.tasks) {
    const TaskResult& r = *p.result;
    const double x = x_of(t, p.start), width = std::max(x_of(t, p.end) - x, 0.8);
    svg += fmt::format(
        R"(<rect class="task {}" data-id="{}" x="{:.2f}" y="{:.1f}" width="{:.2f}" height="{:.1f}">)"
        R"(<title>{}: {} in {}</title></rect>)",
        r.is_success ? "ok" : "failed", escape(r.id), x, static_cast<double>(p.lane) * kLaneHeight + 1,
        width, kLaneHeight - 2, escape(r.id), r.is_success ? "succeeded" : "failed",
        seconds(p.end - p.start));
  }
  return svg;
}

// Too many tasks for a bar each: per agent and time slice, how many ended there, shaded by count,
// red where any failed.
std::string task_bins(const Timeline& t, std::size_t bins) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> cells(t.agents.size() * bins);  // tasks, failed
  for (const Placed& p : t.tasks) {
    const auto bin = std::min<std::size_t>(
        bins - 1, static_cast<std::size_t>(static_cast<double>(p.end) / static_cast<double>(t.span) * bins));
    auto& cell = cells[t.agent_of_lane[p.lane] * bins + bin];
    ++cell.first;
    if (!p.result->is_success) ++cell.second;
  }
  std::uint32_t most = 1;
  for (const auto& cell : cells) most = std::max(most, cell.first);
  std::string svg;
  const double width = kPlotWidth / static_cast<double>(bins);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (cells[i].first == 0) continue;
    svg += fmt::format(
        R"(<rect class="bin {}" x="{:.2f}" y="{:.1f}" width="{:.2f}" height="{:.1f}" fill-opacity="{:.2f}">)"
        R"(<title>{} tasks, {} failed</title></rect>)",
        cells[i].second ? "failed" : "ok", kLeftMargin + static_cast<double>(i % bins) * width,
        static_cast<double>(i / bins) * kLaneHeight + 1, width, kLaneHeight - 2,
        0.25 + 0.75 * cells[i].first / most, cells[i].first, cells[i].second);
  }
  return svg;
}

std::string timeline_svg(const Timeline& t, const ReportLimits& limits) {
  const bool bars = t.tasks.size() <= limits.max_task_bars;
  const auto& rows = bars ? t.lanes : t.agents;
  const double height = static_cast<double>(rows.size()) * kLaneHeight;
  return fmt::format(
      R"(<h2>Timeline</h2><p class="note">{}</p>)"
      R"(<svg id="timeline" width="{:.0f}" height="{:.0f}" data-mode="{}">{}{}{}</svg>)",
      bars ? "One bar per task, per agent slot; hover for its id and duration."
           : fmt::format("{} tasks: one row per agent; each cell counts the tasks that ended in "
                         "its time slice (darker: more; red: some failed).", t.tasks.size()),
      kLeftMargin + kPlotWidth + 20, height + 20, bars ? "tasks" : "bins", row_labels(rows),
      bars ? task_bars(t) : task_bins(t, limits.bins), time_axis(t, height));
}

// Tasks ended per second, over the run, as a line.
std::string throughput_svg(const Timeline& t) {
  // About ten tasks a slice on average, so the line shows the rate rather than single ends.
  const std::size_t kSlices = std::clamp<std::size_t>(t.tasks.size() / 10, 10, 100);
  constexpr double kHeight = 120;
  std::vector<std::size_t> ended(kSlices);
  for (const Placed& p : t.tasks) {
    ++ended[std::min(kSlices - 1, static_cast<std::size_t>(static_cast<double>(p.end) / t.span * kSlices))];
  }
  const double slice_seconds = static_cast<double>(t.span) / 1000.0 / kSlices;
  const double top = static_cast<double>(*std::max_element(ended.begin(), ended.end())) / slice_seconds;
  std::string points;
  for (std::size_t i = 0; i < kSlices; ++i) {
    const double rate = static_cast<double>(ended[i]) / slice_seconds;
    points += fmt::format("{:.1f},{:.1f} ", kLeftMargin + (i + 0.5) * kPlotWidth / kSlices,
                          kHeight - (top > 0 ? rate / top * kHeight : 0));
  }
  return fmt::format(
      R"(<h2>Throughput</h2><svg id="throughput" width="{:.0f}" height="{:.0f}">)"
      R"(<text class="tick" x="4" y="12">{:.1f} tasks/s</text><text class="tick" x="4" y="{:.0f}">0</text>)"
      R"(<polyline class="rate" points="{}"/>{}</svg>)",
      kLeftMargin + kPlotWidth + 20, kHeight + 20, top, kHeight, points, time_axis(t, kHeight));
}

// How long tasks took: counts per power-of-two bucket of milliseconds.
std::string durations_svg(const std::vector<TaskResult>& results) {
  std::map<int, std::size_t> buckets;  // bucket k holds durations in [2^(k-1), 2^k) ms
  for (const TaskResult& r : results) {
    if (!r.duration_ms) continue;
    ++buckets[static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<std::int64_t>(*r.duration_ms, 1)) + 1)))];
  }
  if (buckets.empty()) return "<h2>Durations</h2><p class=\"note\">No result carries a duration.</p>";
  std::size_t most = 0;
  for (const auto& [k, n] : buckets) most = std::max(most, n);
  std::string bars;
  double x = kLeftMargin;
  const double width = std::min(60.0, kPlotWidth / static_cast<double>(buckets.size()));
  for (const auto& [k, n] : buckets) {
    const double h = 100.0 * static_cast<double>(n) / static_cast<double>(most);
    bars += fmt::format(
        R"(<rect class="duration" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}"><title>{}</title></rect>)"
        R"(<text class="tick" x="{:.1f}" y="116">&lt;{}</text>)",
        x, 100 - h, width - 2, h, fmt::format("{} tasks under {}", n, seconds(std::int64_t{1} << k)), x,
        seconds(std::int64_t{1} << k));
    x += width;
  }
  return fmt::format(R"(<h2>Durations</h2><svg id="durations" width="{:.0f}" height="125">{}</svg>)",
                     kLeftMargin + kPlotWidth + 20, bars);
}

std::string failures_table(const std::vector<TaskResult>& results, std::size_t max_rows) {
  std::string rows;
  std::size_t failed = 0;
  for (const TaskResult& r : results) {
    if (r.is_success) continue;
    if (++failed > max_rows) continue;
    rows += fmt::format(
        R"(<tr class="failure" data-id="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>)",
        escape(r.id), escape(r.id), escape(r.error.value_or("")),
        r.exit_code ? std::to_string(*r.exit_code) : "", escape(r.agent.value_or("")),
        r.attempt ? std::to_string(*r.attempt) : "", escape(r.payload.substr(0, 400)));
  }
  if (failed == 0) return "<h2>Failures</h2><p class=\"note\" id=\"no-failures\">No task failed.</p>";
  return fmt::format(
      R"(<h2>Failures ({})</h2><table id="failures"><thead><tr><th>task</th><th>error</th>)"
      R"(<th>exit code</th><th>agent</th><th>attempt</th><th>reason</th></tr></thead><tbody>{}</tbody></table>{})",
      failed, rows,
      failed > max_rows ? fmt::format(R"(<p class="note">and {} more failures.</p>)", failed - max_rows) : "");
}

constexpr const char* kStyle = R"(
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
.summary span { margin-right: 18px; } .note { color: #666; }
svg { background: #fafafa; border: 1px solid #ddd; }
.task.ok, .bin.ok { fill: #2e7d32; } .task.failed, .bin.failed { fill: #c62828; }
.lane, .tick { font-size: 10px; fill: #555; } .rate { fill: none; stroke: #1565c0; stroke-width: 2; }
.duration { fill: #6a1b9a; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
td:last-child { font-family: monospace; white-space: pre-wrap; max-width: 700px; }
)";

// GNU parallel's Exitval and Signal: a container whose process died of a signal exits 128+N
// (Docker's convention), as one killed for its timeout or memory does: exit value 0, signal N, as
// parallel logs a killed job. A failure with no exit code (never ran: policy, image, ...) is exit
// value 255, as parallel logs a command it could not start.
std::pair<int, int> exit_and_signal(const TaskResult& r) {
  const std::string error = r.error.value_or("");
  int code = r.exit_code.value_or(r.is_success ? 0 : 255);
  if ((error == "timeout" || error == "oom") && !r.exit_code) code = 128 + 9;
  if (code > 128 && code <= 128 + 64) return {0, code - 128};
  return {code, 0};
}

// A joblog field: tabs and line breaks would break the columns.
std::string joblog_field(std::string text) {
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

RunStatus run_status(const ReportInput& input, std::int64_t now_ms) {
  RunStatus status;
  std::vector<std::int64_t> ends;
  for (const TaskResult& r : input.results) {
    if (r.is_success) {
      ++status.succeeded;
    } else {
      ++status.failed;
      status.failures.push_back(r);
    }
    if (r.started_at_ms && r.duration_ms) ends.push_back(*r.started_at_ms + *r.duration_ms);
  }
  const std::uint64_t answered = status.succeeded + status.failed;
  status.submitted = std::max(input.submitted, answered);
  status.waiting = status.submitted - answered;
  if (ends.size() >= 2) {
    std::sort(ends.begin(), ends.end());
    // The last minute before now, or before the last end when the run is over.
    const std::int64_t until = status.waiting > 0 ? std::max(now_ms, ends.back()) : ends.back();
    const std::int64_t since = std::max(until - 60'000, ends.front());
    const auto recent = static_cast<double>(
        ends.end() - std::lower_bound(ends.begin(), ends.end(), since));
    status.rate = recent / (static_cast<double>(std::max<std::int64_t>(until - since, 1)) / 1000.0);
  }
  if (status.waiting > 0 && status.rate > 0) status.eta_seconds = status.waiting / status.rate;
  return status;
}

Expected<std::vector<ReportInput>> runs_of_state_dir(const std::string& dir) {
  if (!fs::is_directory(dir)) return Error::invalid("state directory " + dir + " does not exist");
  std::vector<std::pair<fs::file_time_type, std::string>> journals;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "run.journal" || (name.starts_with("run-") && name.ends_with(".journal"))) {
      journals.emplace_back(entry.last_write_time(ec), entry.path().string());
    }
  }
  std::sort(journals.rbegin(), journals.rend());
  std::vector<ReportInput> runs;
  for (const auto& [time, path] : journals) {
    auto input = read_report_input(path);
    if (!input) return input.error();
    runs.push_back(std::move(*input));
  }
  return runs;
}

std::string render_joblog(const ReportInput& input) {
  std::string out = "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";
  std::size_t seq = 0;
  for (const TaskResult& r : input.results) {
    const auto [exit_value, signal] = exit_and_signal(r);
    out += fmt::format("{}\t{}\t{:.3f}\t{:.3f}\t0\t{}\t{}\t{}\t{}\n", ++seq,
                       joblog_field(r.agent.value_or("-")),
                       static_cast<double>(r.started_at_ms.value_or(0)) / 1000.0,
                       static_cast<double>(r.duration_ms.value_or(0)) / 1000.0, r.payload.size(),
                       exit_value, signal, joblog_field(r.id));
  }
  return out;
}

Expected<ReportInput> read_report_input(const std::string& path) {
  std::string file = path;
  if (fs::is_directory(path)) {
    auto journal = journal_of_state_dir(path);
    if (!journal) return journal.error();
    file = *journal;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error::invalid("cannot read " + file + ": " + std::strerror(errno));
  ReportInput input;
  input.title = file;
  input.source = file;
  const std::string name = fs::path(file).filename().string();
  input.finished = name.starts_with("run-") && name.ends_with(".journal");
  std::set<std::string> seen;
  LineReader reader(in, 1 << 20);
  LineReader::Line line;
  while (reader.next(line)) {
    if (line.text.empty()) continue;
    auto record = line.too_long ? Expected<nlohmann::json>(Error::invalid("too long"))
                                : json_util::parse_object(line.text);
    if (!record) {
      ++input.unreadable_lines;
      continue;
    }
    if (record->contains("run") && (*record)["run"].is_string()) {
      input.run_id = (*record)["run"].get<std::string>();
      input.title = "run " + input.run_id;
      continue;
    }
    if (record->contains("submitted")) {
      if ((*record)["submitted"].is_number_unsigned()) {
        input.submitted = std::max(input.submitted, (*record)["submitted"].get<std::uint64_t>());
      }
      continue;
    }
    auto result = record->contains("result") ? parse_result(json_util::dump((*record)["result"]))
                                             : parse_result(line.text);
    if (!result) {
      ++input.unreadable_lines;
      continue;
    }
    if (seen.insert(result->id).second) input.results.push_back(std::move(*result));
  }
  return input;
}

std::string render_report(const ReportInput& input, const ReportLimits& limits) {
  const Timeline timeline = place(input.results);
  const auto failed = static_cast<std::size_t>(std::count_if(
      input.results.begin(), input.results.end(), [](const TaskResult& r) { return !r.is_success; }));
  const std::size_t unplaced = input.results.size() - timeline.tasks.size();
  std::string notes;
  if (unplaced > 0) {
    notes += fmt::format(R"(<p class="note">{} task(s) carry no start time (results of an agent )"
                         R"(that writes none, such as docker-tasker's) and are not on the timeline.</p>)",
                         unplaced);
  }
  if (input.unreadable_lines > 0) {
    notes += fmt::format(R"(<p class="note">{} line(s) of the source were not results and were skipped.</p>)",
                         input.unreadable_lines);
  }
  const double rate = timeline.tasks.empty() ? 0 : timeline.tasks.size() * 1000.0 / timeline.span;
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>tasker report: {}</title>"
      "<style>{}</style></head><body><h1>tasker report: {}</h1>"
      R"(<p class="summary"><span id="total">{} tasks</span><span id="succeeded">{} succeeded</span>)"
      R"(<span id="failed">{} failed</span><span>{} from first start to last end</span>)"
      R"(<span>{:.2f} tasks/s</span><span>{} lanes (agent slots)</span></p>{}{}{}{}{}</body></html>)",
      escape(input.title), kStyle, escape(input.title), input.results.size(),
      input.results.size() - failed, failed, seconds(timeline.tasks.empty() ? 0 : timeline.span), rate,
      timeline.lanes.size(), notes, timeline.tasks.empty() ? "" : timeline_svg(timeline, limits),
      timeline.tasks.empty() ? "" : throughput_svg(timeline), durations_svg(input.results),
      failures_table(input.results, limits.max_failure_rows));
}

}  // namespace tasker
