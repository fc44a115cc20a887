#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace tasker::cli {

/// Runs the `tasker` command line; returns the process exit status.
int run(int argc, char** argv);

/// One subcommand: its name, one line of help, and a function that adds its flags to `command`
/// and returns the action to run once they are parsed (returning the exit status).
struct Subcommand {
  const char* name;
  const char* help;
  std::function<std::function<int()>(CLI::App& command)> setup;
};

// Each subcommand's setup, one file each (src/cli/cmd_<name>.cc).
std::function<int()> setup_version(CLI::App& command);
std::function<int()> setup_agent(CLI::App& command);
std::function<int()> setup_submit(CLI::App& command);
std::function<int()> setup_run(CLI::App& command);
std::function<int()> setup_validate(CLI::App& command);
std::function<int()> setup_exec(CLI::App& command);
std::function<int()> setup_queue(CLI::App& command);
std::function<int()> setup_report(CLI::App& command);
std::function<int()> setup_results(CLI::App& command);
std::function<int()> setup_status(CLI::App& command);
std::function<int()> setup_runs(CLI::App& command);

}  // namespace tasker::cli
