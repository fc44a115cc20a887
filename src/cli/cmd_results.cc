#include <atomic>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/signals.h"

namespace tasker::cli {

// `tasker results RUN`: the later half of a detached run (`tasker submit` without --wait). Every
// result of the run still in the results queue is printed, journaled with --state, and only then
// deleted; it ends once kCollectQuietReceives receives in a row bring none (or at --timeout).
std::function<int()> setup_results(CLI::App& command) {
  struct Flags {
    std::string run_id;
    std::string broker = env_or("TASKER_BROKER", "sqs://");
    std::string tasks = env_or("Q_TASK", "");
    std::string results = env_or("Q_RESULTS", "");
    std::string state;
    double timeout = 0;
    std::string progress = "none";
    bool allow_failures = false;
  };
  auto f = std::make_shared<Flags>();
  command.add_option("run", f->run_id, "The run's id (`tasker submit` prints it)")->required();
  command.add_option("--broker", f->broker, "sqlite:PATH, sqs://, or a queue URL (env TASKER_BROKER)")
      ->capture_default_str();
  command.add_option("--tasks", f->tasks, "Tasks queue name or URL (env Q_TASK)");
  command.add_option("--results", f->results, "Results queue name or URL (env Q_RESULTS)");
  command.add_option("--state", f->state,
                     "Journal: each result is recorded before it is deleted; again with it, what it "
                     "holds is not printed twice");
  command.add_option("--timeout", f->timeout, "Give up after this many seconds (0: never)")
      ->check(CLI::Range(0.0, 1e9));
  command.add_option("--progress", f->progress, "auto, bar, json or none")->capture_default_str();
  command.add_flag("--allow-failures", f->allow_failures, "Exit 0 even when tasks failed");
  return [f] {
    static std::atomic<bool> interrupted{false};
    handle_stop_signals([](int) { interrupted = true; });
    auto address = parse_broker_address(f->broker);
    if (!address) return fail("results", address.error());
    if (f->tasks.empty() && address->queue) f->tasks = *address->queue;
    if (f->tasks.empty()) return fail("results", Error::invalid("no tasks queue: set Q_TASK or --tasks"));
    if (f->results.empty()) return fail("results", Error::invalid("no results queue: set Q_RESULTS or --results"));
    auto progress = progress_mode(f->progress);
    if (!progress) return fail("results", progress.error());
    auto signing_key = SigningKey::from_environment();
    if (!signing_key) return fail("results", signing_key.error());
    auto broker = open_broker(*address);
    if (!broker) return fail("results", broker.error());

    MasterOptions options;
    options.tasks_queue = f->tasks;
    options.results_queue = f->results;
    options.run_id = f->run_id;
    if (!f->state.empty()) options.state_file = f->state;
    options.broker = broker_identity(*address);
    options.replay = false;
    options.collect = true;
    options.timeout = std::chrono::milliseconds(static_cast<long long>(f->timeout * 1000));
    options.progress = *progress;
    options.interrupt = &interrupted;
    options.signing_key = std::move(*signing_key);
    Master master(**broker, options);
    auto report = master.run([]() -> std::optional<Expected<Task>> { return std::nullopt; }, print_result);
    if (!report) return fail("results", report.error());
    return finish_run(*report, f->allow_failures);
  };
}

}  // namespace tasker::cli
