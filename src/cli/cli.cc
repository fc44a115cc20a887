#include "cli/cli.h"

#include <iostream>
#include <string>
#include <vector>

namespace tasker::cli {
namespace {

// The subcommands, in the order `tasker --help` lists them.
const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> kSubcommands = {
      {"run", "Run tasks on this machine: SQLite queue, in-process agent, no AWS", setup_run},
      {"submit", "Send tasks to a queue; with --wait, print their results", setup_submit},
      {"agent", "Take tasks from a queue and run each as a container", setup_agent},
      {"exec", "Run one task on the local Docker daemon and print its result", setup_exec},
      {"queue", "Create, delete, purge or count a queue (SQS or SQLite)", setup_queue},
      {"validate", "Check a JSON-lines task file; report every bad line", setup_validate},
      {"results", "Print (and then delete) every result of a run still in its results queue",
       setup_results},
      {"status", "Where a run stands: counts, rate, failures, what runs here", setup_status},
      {"runs", "List the runs a state directory knows", setup_runs},
      {"report", "Write a run's report: one HTML page with its timeline and failures", setup_report},
      {"version", "Print tasker's version", setup_version},
  };
  return kSubcommands;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{
      "tasker runs containerised tasks across machines: a master streams tasks into a queue "
      "(SQLite on one machine, or AWS SQS), agents run each task as a Docker container and "
      "return its result.",
      "tasker"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tasker ") + TASKER_VERSION);

  std::function<int()> action;
  for (const auto& subcommand : subcommands()) {
    CLI::App* command = app.add_subcommand(subcommand.name, subcommand.help);
    auto run_subcommand = subcommand.setup(*command);
    command->callback([&action, run_subcommand] { action = run_subcommand; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end parsing this way too: they print and succeed.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    // A bad flag is one line naming the command, and exit status 2 (bad flags or input).
    std::string command = "tasker";
    for (const CLI::App* sub : app.get_subcommands()) command += " " + sub->get_name();
    std::string what = e.what();
    if (command == "tasker" && argc > 1 && argv[1][0] != '-') {
      what = "unknown command '" + std::string(argv[1]) + "': the commands are";
      for (const auto& subcommand : subcommands()) what += std::string(" ") + subcommand.name;
    }
    std::cerr << command << ": " << what << " (see " << command << " --help)\n";
    return 2;
  }
  try {
    return action ? action() : 0;
  } catch (const std::exception& e) {
    // Only programming errors reach here; everything a user can cause is an Error value.
    std::cerr << "tasker: internal error: " << e.what() << "\n";
    return 70;
  }
}

}  // namespace tasker::cli
