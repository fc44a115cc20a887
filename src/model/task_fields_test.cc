#include "model/task_fields.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tasker/task.h"

namespace tasker {
namespace {

// README.md's task-field table, as field name -> its "type" column (`runId`, `replyQueue` share
// one row).
std::map<std::string, std::string> readme_task_fields() {
  std::ifstream readme(std::string(TASKER_SOURCE_DIR) + "/README.md");
  std::map<std::string, std::string> fields;
  std::string line;
  bool in_table = false;
  while (std::getline(readme, line)) {
    if (line == "| field | type | meaning |") {
      in_table = true;
    } else if (in_table && line.rfind("| `", 0) != 0 && line.rfind("|---", 0) != 0) {
      break;
    } else if (in_table && line.rfind("| `", 0) == 0) {
      const auto names_end = line.find(" | ", 2);
      const auto type_end = line.find(" | ", names_end + 3);
      const std::string names = line.substr(2, names_end - 2);
      const std::string type = line.substr(names_end + 3, type_end - names_end - 3);
      std::size_t close = 0;
      for (auto open = names.find('`'); open != std::string::npos;
           open = names.find('`', close + 1)) {
        close = names.find('`', open + 1);
        fields[names.substr(open + 1, close - open - 1)] = type;
      }
    }
  }
  return fields;
}

std::string readme_row(std::string_view field) {
  std::ifstream readme(std::string(TASKER_SOURCE_DIR) + "/README.md");
  std::string line;
  while (std::getline(readme, line)) {
    if (line.rfind("| `" + std::string(field) + "` |", 0) == 0) return line;
  }
  return "";
}

// Given the field table and README.md's table of task fields, both should list the same fields,
// and the README should call required exactly the fields the table requires.
TEST(TaskFieldsTest, ReadmeTableListsEveryFieldAndWhichAreRequired) {
  const auto readme = readme_task_fields();
  std::set<std::string> table_names;
  for (const TaskField& field : task_fields()) {
    const std::string name(field.name);
    table_names.insert(name);
    ASSERT_TRUE(readme.count(name)) << name << " is missing from README.md's task-field table";
    EXPECT_EQ(readme.at(name).find("required") != std::string::npos,
              field.presence == Presence::kRequired)
        << name << ": " << readme.at(name);
  }
  for (const auto& [name, type] : readme) {
    EXPECT_TRUE(table_names.count(name)) << name << " is in README.md but not a task field";
  }
}

// Given the limits, README.md's rows should state them as they are.
TEST(TaskFieldsTest, ReadmeStatesTheLimits) {
  EXPECT_NE(readme_row("id").find("1–" + std::to_string(kMaxTaskIdBytes) + " bytes"),
            std::string::npos);
  EXPECT_NE(
      readme_row("timeout").find("≤ " + std::to_string(static_cast<long long>(kMaxTimeoutSeconds))),
      std::string::npos);
  EXPECT_NE(readme_row("memory").find("(" + format_byte_size(kMinMemoryBytes) + " to " +
                                      format_byte_size(kMaxMemoryBytes) + ")"),
            std::string::npos);
  EXPECT_NE(readme_row("maxAttempts").find("1–" + std::to_string(kMaxAttemptsLimit)),
            std::string::npos);
}

// Given a task that sets every field, writing it should name every field of the table, and
// reading it back should give the same wire form.
TEST(TaskFieldsTest, EveryFieldIsWrittenAndReadBack) {
  Task task;
  task.id = "t";
  task.image = "busybox";
  task.command_line = "sh -c 'echo 1'";
  task.argv = {"sh", "-c", "echo 1"};
  task.env = {{"A", "1"}};
  task.timeout_seconds = 30;
  task.cpus = 0.5;
  task.memory_bytes = kMinMemoryBytes;
  task.network = "none";
  task.workdir = "/work";
  task.user = "1000";
  task.entrypoint = std::vector<std::string>{"/bin/sh"};
  task.max_attempts = 3;
  task.privileged = true;
  task.mounts = {"/data:/data:ro"};
  task.run_id = "r";
  task.reply_queue = "q";
  const std::string wire = to_json(task);
  for (const TaskField& field : task_fields()) {
    EXPECT_NE(wire.find("\"" + std::string(field.name) + "\":"), std::string::npos) << field.name;
  }
  auto again = parse_task(wire);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(to_json(*again), wire);
}

// Given a task built in code with a value out of range, validate should refuse it with the same
// words parse_task uses for the same value on the wire.
TEST(TaskFieldsTest, ValidateAndParseGiveTheSameErrorForALimit) {
  const std::string head = R"({"id":"a","image":"busybox","arguments":"x",)";
  auto validated = [](auto set) {
    Task task;
    task.id = "a";
    task.image = "busybox";
    task.argv = {"x"};
    set(task);
    auto status = validate(task);
    return status.ok() ? "(no error)" : status.error().message;
  };
  auto parsed = [&](const std::string& field) {
    auto task = parse_task(head + field + "}");
    return task.ok() ? "(no error)" : task.error().message;
  };
  EXPECT_EQ(validated([](Task& t) { t.timeout_seconds = 0; }), parsed(R"("timeout":0)"));
  EXPECT_EQ(validated([](Task& t) { t.timeout_seconds = 1e7; }), parsed(R"("timeout":1e7)"));
  EXPECT_EQ(validated([](Task& t) { t.timeout_seconds = 1e7; }),
            R"("timeout": must be at most 604800 s)");
  EXPECT_EQ(validated([](Task& t) { t.cpus = 2048; }), parsed(R"("cpus":2048)"));
  EXPECT_EQ(validated([](Task& t) { t.cpus = 2048; }), R"("cpus": must be at most 1024)");
  EXPECT_EQ(validated([](Task& t) { t.memory_bytes = kMaxMemoryBytes + 1; }),
            parsed(R"("memory":1099511627777)"));
  EXPECT_EQ(validated([](Task& t) { t.max_attempts = 1001; }), parsed(R"("maxAttempts":1001)"));
  EXPECT_EQ(validated([](Task& t) { t.max_attempts = kMaxAttemptsLimit; }), "(no error)");
  EXPECT_EQ(validated([](Task& t) { t.memory_bytes = kMinMemoryBytes; }), "(no error)");
}

// Given the names on the wire, the table should find exactly those: the spelling a suggestion
// for an unknown field would be made from.
TEST(TaskFieldsTest, FindsFieldsByTheirWireName) {
  ASSERT_NE(find_task_field("maxAttempts"), nullptr);
  EXPECT_EQ(find_task_field("maxAttempts")->name, "maxAttempts");
  EXPECT_EQ(find_task_field("timout"), nullptr);
  EXPECT_EQ(find_task_field("max_attempts"), nullptr);
}

}  // namespace
}  // namespace tasker
