#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "docker_test_support.h"
#include "tasker/result.h"

namespace tasker::docker {
namespace {

// What a `tasker exec` run printed and how it exited.
struct ExecRun {
  int status = -1;
  std::string out;
};

// Runs `tasker exec` through the shell with `arguments` (already quoted), feeding `input` (a
// quoted word) on standard input when given, stderr to stdout when `merge_stderr`.
ExecRun tasker_exec(const std::string& arguments, const std::string& input = "",
                    bool merge_stderr = false) {
  const std::string command = (input.empty() ? "" : "printf '%s' " + input + " | ") +
                              std::string(TASKER_BINARY) + " exec " + arguments +
                              (merge_stderr ? " 2>&1" : " 2>/dev/null");
  ExecRun run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class TaskerExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    image_ = image;
  }
  // A task as JSON, quoted for the shell; `command` must not contain a single quote.
  std::string task_argument(const std::string& id, const std::string& command) {
    return "'{\"id\":\"" + id + "\",\"image\":\"" + image_ +
           "\",\"network\":\"none\",\"arguments\":\"" + command + "\"}'";
  }
  std::string image_;
};

// Given the seed example, `tasker exec` should print a successful result and exit 0.
TEST_F(TaskerExecTest, PrintsResultOfSeedExample) {
  const auto run = tasker_exec(task_argument("seed", "sh -c \\\"sleep 1; echo 1\\\""));
  ASSERT_EQ(run.status, 0) << run.out;
  auto result = parse_result(run.out);
  ASSERT_TRUE(result) << run.out;
  EXPECT_TRUE(result->is_success);
  EXPECT_EQ(result->id, "seed");
  EXPECT_EQ(result->payload, "1");
}

// Given a task on standard input that fails, it should print the failed result and exit 1.
TEST_F(TaskerExecTest, FailedTaskFromStdinExitsOne) {
  const auto run = tasker_exec("-", task_argument("fails", "sh -c \\\"echo bad >&2; exit 4\\\""));
  ASSERT_EQ(run.status, 1) << run.out;
  auto result = parse_result(run.out);
  ASSERT_TRUE(result) << run.out;
  EXPECT_FALSE(result->is_success);
  EXPECT_EQ(result->payload, "exit code 4: bad");
  EXPECT_EQ(result->exit_code, 4);
}

// Given a task missing a field, it should name the field on one line and exit 2.
TEST_F(TaskerExecTest, BadTaskExitsTwoNamingTheField) {
  const auto run = tasker_exec("'{\"id\":\"x\",\"arguments\":\"true\"}'", "", true);
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.out, "tasker exec: invalid task: \"image\": missing (required)\n");
}

}  // namespace
}  // namespace tasker::docker
