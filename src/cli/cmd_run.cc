#include <atomic>
#include <fstream>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/policy_flags.h"
#include "cli/signals.h"
#include "master/line_supply.h"
#include "tasker/embedded.h"
#include "util/log.h"

namespace tasker::cli {

std::function<int()> setup_run(CLI::App& command) {
  struct Flags {
    std::string file = "-";
    std::size_t slots = 0;
    std::string state_dir = ".tasker";
    bool fresh = false;
    double timeout = 0;
    std::string progress = "auto";
    bool allow_failures = false;
    bool replay = false;
    bool verbose = false;
    PolicyFlags policy;
  };
  auto f = std::make_shared<Flags>();
  command.add_option("file", f->file, "JSON-lines task file, or - for standard input")->capture_default_str();
  command.add_option("-j,--slots", f->slots, "Tasks at once (default: the number of CPUs)")
      ->check(number_range(1, kMaxSlots));
  command.add_option("--state-dir", f->state_dir, "Queue and journal; an interrupted run here resumes")
      ->capture_default_str();
  command.add_flag("--fresh", f->fresh, "Discard an interrupted run in the state directory");
  command.add_option("--timeout", f->timeout, "Give up after this many seconds (0: never)")
      ->check(number_range(0, kMaxRunTimeoutSeconds, "s"));
  command.add_option("--progress", f->progress, "auto, bar, json or none")->capture_default_str();
  command.add_flag("--allow-failures", f->allow_failures, "Exit 0 even when tasks failed");
  command.add_flag("--replay", f->replay,
                   "On a resume, print again the results the journal holds (default: only new ones)");
  command.add_flag("-v,--verbose", f->verbose, "Log each task as it ends");
  add_policy_flags(command, f->policy);
  return [f] {
    // Before any thread starts, so only the watcher thread sees SIGINT/SIGTERM.
    static std::atomic<bool> interrupted{false};
    handle_stop_signals([](int) { interrupted = true; });
    log::configure(f->verbose ? log::Level::kInfo : log::Level::kWarn, log::Format::kText);
    auto progress = progress_mode(f->progress);
    if (!progress) return fail("run", progress.error());
    auto policy = policy_from_flags(f->policy, f->slots);
    if (!policy) return fail("run", policy.error());
    auto signing_key = SigningKey::from_environment();
    if (!signing_key) return fail("run", signing_key.error());
    std::ifstream file;
    auto input = open_input(f->file, file);
    if (!input) return fail("run", input.error());

    EmbeddedOptions options;
    options.state_dir = f->state_dir;
    options.input = input_identity(f->file);
    options.replay = f->replay;
    options.slots = f->slots;
    options.fresh = f->fresh;
    options.progress = *progress;
    options.timeout = std::chrono::milliseconds(static_cast<long long>(f->timeout * 1000));
    options.interrupt = &interrupted;
    options.policy = *policy;
    options.cap_cpus = !f->policy.max_cpus.empty();
    options.signing_key = std::move(*signing_key);
    auto report = run_embedded(json_lines_supply(**input), print_result, options);
    if (!report) return fail("run", report.error());
    return finish_run(*report, f->allow_failures);
  };
}

}  // namespace tasker::cli
