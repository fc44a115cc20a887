#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/common.h"
#include "docker/docker_client.h"
#include "master/report.h"
#include "model/json_util.h"

namespace tasker::cli {
namespace {

using json = nlohmann::json;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A run's containers on the local Docker daemon (those of `tasker run`, or of agents on this
// machine); none when the daemon cannot be reached, which `reachable` says.
std::vector<docker::ContainerSummary> running_here(const std::string& run_id, bool& reachable) {
  reachable = false;
  if (run_id.empty()) return {};
  auto endpoint = docker::endpoint_from_environment();
  if (!endpoint) return {};
  docker::DockerClient client(*endpoint);
  auto containers = client.list_containers("tasker.run-id=" + run_id);
  if (!containers) return {};
  reachable = true;
  std::vector<docker::ContainerSummary> running;
  for (auto& c : *containers) {
    if (c.state == "running") running.push_back(std::move(c));
  }
  return running;
}

std::string duration(double seconds) {
  if (seconds < 90) return fmt::format("{:.0f} s", seconds);
  if (seconds < 5400) return fmt::format("{:.0f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

json status_json(const ReportInput& input, const RunStatus& s,
                 const std::vector<docker::ContainerSummary>& running, bool docker_reachable) {
  json failures = json::array();
  for (const TaskResult& r : s.failures) {
    failures.push_back({{"id", r.id}, {"error", r.error.value_or("")}, {"reason", r.payload}});
    if (r.exit_code) failures.back()["exitCode"] = *r.exit_code;
  }
  json here = json::array();
  for (const auto& c : running) {
    here.push_back({{"id", c.task_id}, {"agent", c.agent}, {"seconds", now_ms() / 1000 - c.created}});
  }
  json out = {{"run", input.run_id},     {"journal", input.source},  {"finished", input.finished},
              {"submitted", s.submitted}, {"succeeded", s.succeeded}, {"failed", s.failed},
              {"waiting", s.waiting},    {"rate", s.rate},           {"failures", failures}};
  out["runningHere"] = docker_reachable ? here : json(nullptr);
  out["etaSeconds"] = s.eta_seconds ? json(*s.eta_seconds) : json(nullptr);
  return out;
}

std::string status_text(const ReportInput& input, const RunStatus& s,
                        const std::vector<docker::ContainerSummary>& running, bool docker_reachable) {
  std::string out = fmt::format("{} ({}){}\n", input.title, input.source,
                                input.finished ? ": finished" : "");
  out += fmt::format("  {} submitted, {} succeeded, {} failed, {} waiting for a result\n", s.submitted,
                     s.succeeded, s.failed, s.waiting);
  if (s.rate > 0) {
    out += fmt::format("  {:.2f} tasks/s over the last minute{}\n", s.rate,
                       s.eta_seconds ? "; about " + duration(*s.eta_seconds) + " to go" : "");
  }
  if (docker_reachable && !input.finished) {
    out += fmt::format("  running on this machine's Docker: {}\n", running.size());
    for (const auto& c : running) {
      out += fmt::format("    {} on {} for {}\n", c.task_id, c.agent,
                         duration(static_cast<double>(now_ms() / 1000 - c.created)));
    }
  }
  constexpr std::size_t kShown = 20;
  if (!s.failures.empty()) out += "  failed:\n";
  for (std::size_t i = 0; i < s.failures.size() && i < kShown; ++i) {
    const TaskResult& r = s.failures[i];
    out += fmt::format("    {}  {}  {}\n", r.id, r.error.value_or("-"),
                       json_util::printable(r.payload.substr(0, 160)));
  }
  if (s.failures.size() > kShown) out += fmt::format("    and {} more\n", s.failures.size() - kShown);
  return out;
}

// Prints where the run in `source` stands; true when it has ended.
Expected<bool> print_status(const std::string& source, bool as_json, bool clear) {
  auto input = read_report_input(source);
  if (!input) return input.error();
  const RunStatus status = run_status(*input, now_ms());
  bool reachable = false;
  const auto running = input->finished ? std::vector<docker::ContainerSummary>{}
                                       : running_here(input->run_id, reachable);
  if (clear) std::cout << "\033[H\033[2J";
  if (as_json) {
    std::cout << json_util::dump(status_json(*input, status, running, reachable)) << "\n";
  } else {
    std::cout << status_text(*input, status, running, reachable);
  }
  std::cout.flush();
  return input->finished || (status.submitted > 0 && status.waiting == 0);
}

}  // namespace

std::function<int()> setup_status(CLI::App& command) {
  auto source = std::make_shared<std::string>(".tasker");
  auto as_json = std::make_shared<bool>(false);
  auto watch = std::make_shared<double>(0);
  command.add_option("source", *source, "State directory, journal (submit --state) or results file")
      ->capture_default_str();
  command.add_flag("--json", *as_json, "One JSON object per report, for scripts");
  command.add_option("--watch", *watch, "Report again every this many seconds until the run ends")
      ->check(CLI::Range(0.1, 3600.0));
  return [source, as_json, watch] {
    const bool clear = *watch > 0 && !*as_json && ::isatty(STDOUT_FILENO);
    while (true) {
      auto ended = print_status(*source, *as_json, clear);
      if (!ended) return fail("status", ended.error());
      if (*watch <= 0 || *ended) return kExitOk;
      std::this_thread::sleep_for(std::chrono::duration<double>(*watch));
    }
  };
}

std::function<int()> setup_runs(CLI::App& command) {
  auto dir = std::make_shared<std::string>(".tasker");
  auto as_json = std::make_shared<bool>(false);
  command.add_option("state-dir", *dir, "State directory")->capture_default_str();
  command.add_flag("--json", *as_json, "One JSON object per run, for scripts");
  return [dir, as_json] {
    auto runs = runs_of_state_dir(*dir);
    if (!runs) return fail("runs", runs.error());
    for (const ReportInput& run : *runs) {
      const RunStatus s = run_status(run, now_ms());
      if (*as_json) {
        std::cout << json_util::dump(json{{"run", run.run_id}, {"journal", run.source},
                                          {"finished", run.finished}, {"submitted", s.submitted},
                                          {"succeeded", s.succeeded}, {"failed", s.failed}})
                  << "\n";
      } else {
        std::cout << fmt::format("{}  {}  {} submitted, {} succeeded, {} failed  {}\n",
                                 run.run_id.empty() ? "-" : run.run_id,
                                 run.finished ? "finished   " : "in progress", s.submitted,
                                 s.succeeded, s.failed, run.source);
      }
    }
    if (runs->empty() && !*as_json) std::cerr << "runs: no run in " << *dir << "\n";
    return kExitOk;
  };
}

}  // namespace tasker::cli
