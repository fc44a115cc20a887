#include "master/line_supply.h"

#include <memory>

#include "model/line_reader.h"

namespace tasker {

Supply json_lines_supply(std::istream& input) {
  auto reader = std::make_shared<LineReader>(input, kMaxBodyBytes);
  return [reader]() -> std::optional<Expected<Task>> {
    LineReader::Line line;
    while (reader->next(line)) {
      const std::string where = "task line " + std::to_string(line.number) + ": ";
      if (line.too_long) {
        return Expected<Task>(Error::invalid(where + "task is " + std::to_string(line.length) +
                                             " bytes, over the " + std::to_string(kMaxBodyBytes) +
                                             "-byte limit"));
      }
      if (line.text.find_first_not_of(" \t") == std::string::npos) continue;
      auto task = parse_task(line.text);
      if (!task) return Expected<Task>(Error::invalid(where + task.error().message));
      return task;
    }
    return std::nullopt;
  };
}

}  // namespace tasker
