#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tasker::testing {

/// A child process for integration tests: started with extra environment, its standard output
/// and error sent to a file, stopped by signal; killed if still running when destroyed.
class ChildProcess {
 public:
  /// Starts argv[0] (a path) with the current environment plus `env`; output goes to `log_path`.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signal);
  /// Waits up to `timeout` for the process to exit; its exit status (or 128+signal), or nullopt.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  /// The output so far.
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

/// Runs a command to completion with a shell (`sh -c`), returning its exit status and standard
/// output (add `2>&1` to the command for standard error too).
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_command(const std::string& command);

/// The whole of a file, byte for byte ("" when it cannot be read).
std::string read_file(const std::filesystem::path& path);

/// Writes `contents` to a file, byte for byte, replacing it.
void write_file(const std::filesystem::path& path, const std::string& contents);

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace tasker::testing
