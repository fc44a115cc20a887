#include <fstream>
#include <iostream>
#include <unordered_map>

#include "cli/cli.h"
#include "cli/common.h"
#include "model/line_reader.h"
#include "tasker/task.h"

namespace tasker::cli {

std::function<int()> setup_validate(CLI::App& command) {
  auto path = std::make_shared<std::string>("-");
  command.add_option("file", *path, "JSON-lines task file, or - for standard input")
      ->capture_default_str();
  return [path] {
    std::ifstream file;
    auto input = open_input(*path, file);
    if (!input) return fail("validate", input.error());

    // Every line is checked and every bad one reported; the first line of each id is remembered
    // so a repeated id names where it was first seen.
    LineReader reader(**input, kMaxBodyBytes);
    LineReader::Line line;
    std::unordered_map<std::string, std::size_t> first_line_of_id;
    std::size_t tasks = 0;
    std::size_t invalid = 0;
    while (reader.next(line)) {
      if (!line.too_long && line.text.find_first_not_of(" \t") == std::string::npos) continue;
      ++tasks;
      std::string problem;
      if (line.too_long) {
        problem = "task is " + std::to_string(line.length) + " bytes, over the " +
                  std::to_string(kMaxBodyBytes) + "-byte limit";
      } else if (auto task = parse_task(line.text); !task) {
        problem = task.error().message;
      } else if (auto [it, fresh] = first_line_of_id.emplace(task->id, line.number); !fresh) {
        problem = "\"id\": '" + task->id + "' repeats the id of line " + std::to_string(it->second);
      }
      if (!problem.empty()) {
        ++invalid;
        std::cerr << "task line " << line.number << ": " << problem << "\n";
      }
    }
    std::cerr << tasks << " tasks checked, " << invalid << " invalid\n";
    return invalid == 0 ? kExitOk : kExitTaskFailed;
  };
}

}  // namespace tasker::cli
