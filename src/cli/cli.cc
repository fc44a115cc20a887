#include "cli/cli.h"

#include <iostream>
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
    return app.exit(e);
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
