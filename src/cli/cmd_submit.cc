#include <atomic>
#include <fstream>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/deadline.h"
#include "cli/signals.h"
#include "master/line_supply.h"

namespace tasker::cli {
namespace {

// How long after its --timeout a run may take to finish what it is doing (the last receive, the
// deletes of printed results) before it is ended.
constexpr std::chrono::seconds kTimeoutGrace{2};

// Without --wait the only results a run has are the failed answers of tasks the queue refused
// (too large as sent, characters SQS refuses): each is said on standard error, not printed as a
// result.
void say_not_sent(const TaskResult& result) {
  std::cerr << "tasker submit: task " << result.id << ": " << result.payload << "\n";
}

// The summary of a run that only submits: sent, invalid, not sent; exit 1 when any was not sent.
int finish_submit(const RunReport& report, bool allow_failures) {
  const std::uint64_t not_sent = report.failed;
  std::cerr << "run " << report.run_id << ": " << report.submitted - not_sent
            << " tasks submitted, " << report.invalid << " invalid";
  if (not_sent > 0) std::cerr << ", " << not_sent << " not sent";
  std::cerr << "\n";
  if (report.interrupted) return kExitIncomplete;
  return (not_sent > 0 || report.invalid > 0) && !allow_failures ? kExitTaskFailed : kExitOk;
}

struct SubmitFlags {
  std::string file = "-";
  bool wait = false;
  std::string broker = env_or("TASKER_BROKER", "sqs://");
  std::string tasks = env_or("Q_TASK", "");
  std::string results = env_or("Q_RESULTS", "");
  std::string run_id;
  std::string state;
  double timeout = 0;
  std::size_t window = 100000;
  std::size_t calls_in_flight = 0;
  std::string progress = "auto";
  bool allow_failures = false;
  bool replay = false;
};

void add_submit_flags(CLI::App& command, SubmitFlags& f) {
  command.add_option("file", f.file, "JSON-lines task file, or - for standard input")->capture_default_str();
  command.add_flag("--wait", f.wait, "Wait for every result and print them as JSON lines");
  command.add_option("--broker", f.broker, "sqlite:PATH, sqs://, or a queue URL (env TASKER_BROKER)")
      ->capture_default_str();
  command.add_option("--tasks", f.tasks, "Tasks queue name or URL (env Q_TASK)");
  command.add_option("--results", f.results, "Results queue name or URL (env Q_RESULTS)");
  command.add_option("--run-id", f.run_id, "Run id (default: a new one; the state file's when resuming)");
  command.add_option("--state", f.state, "Journal file; start again with it to resume a killed run");
  command.add_option("--timeout", f.timeout, "With --wait: give up after this many seconds (0: never)")
      ->check(number_range(0, kMaxRunTimeoutSeconds, "s"));
  command.add_option("--window", f.window, "Most tasks unanswered at once")
      ->check(number_range(1, 1e8))
      ->capture_default_str();
  command.add_option("--calls-in-flight", f.calls_in_flight,
                     "Queue calls in flight at once, sending tasks and taking results (0: the queue's "
                     "choice, 16 on SQS, 1 on SQLite)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  command.add_option("--progress", f.progress, "auto, bar, json or none")->capture_default_str();
  command.add_flag("--allow-failures", f.allow_failures, "Exit 0 even when tasks failed");
  command.add_flag("--replay", f.replay,
                   "On a resume, print again the results the journal holds (default: only new ones)");
}

// The master's options for the flags; `input` is the task input, opened.
MasterOptions master_options(const SubmitFlags& f, const BrokerAddress& address, std::istream& input,
                             MasterOptions::Progress progress, std::optional<SigningKey> signing_key) {
  MasterOptions options;
  options.tasks_queue = f.tasks;
  options.results_queue = f.results;
  options.run_id = f.run_id;
  if (!f.state.empty()) options.state_file = f.state;
  options.input = input_identity(f.file);
  options.replay = f.replay;
  options.broker = broker_identity(address);
  options.window = std::max<std::size_t>(1, f.window);
  options.calls_in_flight = f.calls_in_flight;
  options.timeout = std::chrono::milliseconds(static_cast<long long>(f.timeout * 1000));
  options.submit_only = !f.wait;
  // Waiting on a named run with nothing to send collects its results (as `tasker results`).
  options.collect = f.wait && !f.run_id.empty() && input.peek() == std::char_traits<char>::eof();
  options.progress = f.wait ? progress : MasterOptions::Progress::kNone;
  options.signing_key = std::move(signing_key);
  return options;
}

// `tasker submit`, step by step; the first error ends it.
int submit_command(SubmitFlags& f) {
  // Before any thread starts, so only the watcher thread sees SIGINT/SIGTERM.
  static std::atomic<bool> interrupted{false};
  handle_stop_signals([](int) { interrupted = true; });
  // The master ends a run at its timeout; this ends one stuck in a queue call that never returns.
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(f.timeout * 1000));
  if (f.wait) end_after_timeout("submit", timeout, kTimeoutGrace, !f.state.empty());
  auto address = parse_broker_address(f.broker);
  if (!address) return fail("submit", address.error());
  if (f.tasks.empty() && address->queue) f.tasks = *address->queue;
  if (f.tasks.empty()) return fail("submit", Error::invalid("no tasks queue: set Q_TASK or --tasks"));
  if (f.wait && f.results.empty()) {
    return fail("submit", Error::invalid("--wait needs a results queue: set Q_RESULTS or --results"));
  }
  auto progress = progress_mode(f.progress);
  if (!progress) return fail("submit", progress.error());
  auto signing_key = SigningKey::from_environment();
  if (!signing_key) return fail("submit", signing_key.error());
  std::ifstream file;
  auto input = open_input(f.file, file);
  if (!input) return fail("submit", input.error());
  auto broker = open_broker(*address);
  if (!broker) return fail("submit", broker.error());

  MasterOptions options = master_options(f, *address, **input, *progress, std::move(*signing_key));
  options.interrupt = &interrupted;
  Master master(**broker, options);
  auto report = master.run(json_lines_supply(**input), f.wait ? print_result : say_not_sent);
  if (!report) return fail("submit", report.error());
  return f.wait ? finish_run(*report, f.allow_failures) : finish_submit(*report, f.allow_failures);
}

}  // namespace

std::function<int()> setup_submit(CLI::App& command) {
  auto f = std::make_shared<SubmitFlags>();
  add_submit_flags(command, *f);
  return [f] { return submit_command(*f); };
}

}  // namespace tasker::cli
