#pragma once

// The JSON lines `tasker run` and `tasker submit` read and print, for tests of those commands.

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tasker/result.h"

namespace tasker::testing {

/// Writes tasks t1..t`count` on `image` running `command` ({n} becomes the task's number), with
/// network none, one JSON line each, to `path`; returns the path.
inline std::string write_tasks(const std::filesystem::path& path, const std::string& image, int count,
                               const std::string& command) {
  std::ofstream out(path);
  for (int i = 1; i <= count; ++i) {
    std::string arguments = command;
    for (auto at = arguments.find("{n}"); at != std::string::npos; at = arguments.find("{n}")) {
      arguments.replace(at, 3, std::to_string(i));
    }
    out << R"({"id":"t)" << i << R"(","image":")" << image << R"(","arguments":")" << arguments
        << R"(","network":"none"})" << "\n";
  }
  return path.string();
}

/// The results in a command's output (`tasker run`, `tasker submit --wait`), by task id, every
/// line counted: a task printed twice has two entries. Lines that are not results (logs, the
/// summary) are skipped.
inline std::map<std::string, std::vector<TaskResult>> results_by_id(const std::string& output) {
  std::map<std::string, std::vector<TaskResult>> results;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    auto result = parse_result(line);
    if (result.ok()) results[result->id].push_back(*result);
  }
  return results;
}

}  // namespace tasker::testing
