#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "tasker/master.h"

namespace tasker::cli {

/// Exit statuses shared by the commands that run tasks.
inline constexpr int kExitOk = 0;
inline constexpr int kExitTaskFailed = 1;   ///< A task failed or a task line was invalid.
inline constexpr int kExitUsage = 2;        ///< Bad flags, configuration or input file.
inline constexpr int kExitIncomplete = 3;   ///< Timed out or interrupted: some results missing.

/// The most slots (tasks at once) an agent or `tasker run` may have: each slot is a thread and a
/// container, and far more than this only exhausts the machine.
inline constexpr std::size_t kMaxSlots = 1024;

/// The longest `--timeout` of a whole run (submit --wait, run): a year, in seconds.
inline constexpr double kMaxRunTimeoutSeconds = 365 * 24 * 3600.0;

/// The check of a numeric flag: a finite number from `min` to `max` (NaN, infinities and text
/// refused), said in one line with the unit: `--poll-wait: 100 is not a number from 0 to 20 s`.
CLI::Validator number_range(double min, double max, const std::string& unit = "");

/// This machine's host name, or `fallback` when it has none.
std::string host_name(const std::string& fallback);

/// The value of an environment variable, or `fallback`.
std::string env_or(const char* name, const std::string& fallback);

/// `--progress auto|bar|json|none`; auto is a bar on a terminal, JSON lines otherwise.
Expected<MasterOptions::Progress> progress_mode(const std::string& flag);

/// Opens FILE, or standard input for "-"; the error names the file.
Expected<std::istream*> open_input(const std::string& path, std::ifstream& file);

/// How a journal names an input: "-" for standard input, else the file's absolute path, so the
/// same file named from another directory is the same input.
std::string input_identity(const std::string& path);

/// How a journal names a broker: sqlite:ABSOLUTE_PATH, or sqs with the endpoint a queue URL names.
std::string broker_identity(const BrokerAddress& address);

/// Writes one result as a JSON line on standard output, flushed so a pipeline sees it at once.
void print_result(const TaskResult& result);

/// Prints the run's summary (and what is missing) on standard error and returns the exit status.
int finish_run(const RunReport& report, bool allow_failures);

/// Prints a one-line error for a command and returns kExitUsage.
int fail(const std::string& command, const Error& error);

}  // namespace tasker::cli
