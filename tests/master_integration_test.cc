// The master as users run it: `tasker run` (the embedded default) and `tasker submit` processes
// against the real Docker daemon and a real SQLite queue.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "docker/docker_client.h"
#include "docker/docker_runtime.h"
#include "tasker/queue.h"
#include "tasker/result.h"
#include "testing/process.h"
#include "testing/task_lines.h"
#include "testing/services.h"

namespace tasker {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::eventually;

class MasterIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("tasker-master-it-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string write_tasks(const std::string& name, int count, const std::string& command_template) {
    return testing::write_tasks(dir_ / name, image_, count, command_template);
  }

  // Results printed on a command's standard output, by id, every line counted.
  static std::map<std::string, std::vector<TaskResult>> parse_results(const std::string& output) {
    return testing::results_by_id(output);
  }

  std::string image_ = testing::env_or_empty("TASKER_TEST_IMAGE");
  std::filesystem::path dir_;
};

// SimpleSum on the embedded default: ten `sh -c 'sleep 1; echo N'` tasks, results as JSON lines,
// payloads summing to 55, exit status 0.
TEST_F(MasterIntegrationTest, RunEmbeddedSimpleSum) {
  TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
  const auto tasks = write_tasks("simplesum.jsonl", 10, "sh -c 'sleep 1; echo {n}'");
  const auto out = dir_ / "out";
  auto run = testing::run_command(std::string(TASKER_BINARY) + " run " + tasks + " -j 4 --progress none --state-dir " +
                                  (dir_ / "state").string() + " 2>&1 >" + out.string());
  ASSERT_EQ(run.status, 0) << run.output;
  auto results = parse_results(testing::read_file(out));
  ASSERT_EQ(results.size(), 10u);
  long sum = 0;
  for (const auto& [id, got] : results) {
    ASSERT_EQ(got.size(), 1u) << id;
    EXPECT_TRUE(got[0].is_success) << got[0].payload;
    sum += std::stol(got[0].payload);
  }
  EXPECT_EQ(sum, 55);
  EXPECT_NE(run.output.find("10 succeeded, 0 failed, 0 invalid"), std::string::npos) << run.output;
}

// A failing task makes the exit status 1, and --allow-failures makes it 0; a bad line is
// reported by number and the other tasks still run.
TEST_F(MasterIntegrationTest, RunReportsFailuresAndBadLinesAndKeepsGoing) {
  TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
  const auto path = dir_ / "mixed.jsonl";
  {
    std::ofstream out(path);
    out << R"({"id":"ok","image":")" << image_ << R"(","arguments":"echo fine","network":"none"})" << "\n";
    out << R"({"id":"bad","image":")" << image_ << R"(","arguments":"sh -c 'oops"})" << "\n";
    out << R"({"id":"exit3","image":")" << image_
        << R"(","arguments":"sh -c 'echo why >&2; exit 3'","network":"none"})" << "\n";
  }
  const std::string command = std::string(TASKER_BINARY) + " run " + path.string() +
                              " --progress none --state-dir " + (dir_ / "state").string();
  auto run = testing::run_command(command + " 2>&1");
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("task line 2: \"arguments\": unbalanced single quote"), std::string::npos) << run.output;
  auto results = parse_results(run.output);
  ASSERT_EQ(results.size(), 2u) << run.output;
  EXPECT_TRUE(results["ok"][0].is_success);
  EXPECT_FALSE(results["exit3"][0].is_success);
  EXPECT_EQ(results["exit3"][0].exit_code, 3);
  EXPECT_NE(results["exit3"][0].payload.find("why"), std::string::npos) << results["exit3"][0].payload;
  EXPECT_EQ(testing::run_command(command + " --allow-failures").status, 0);
}

// `tasker run` killed with SIGKILL part-way and started again with the same state directory:
// nothing is sent twice, and every task's result is printed exactly once across the two runs (the
// resume does not print again what the killed run printed; it used to).
TEST_F(MasterIntegrationTest, KilledRunResumesWithEveryResultOnce) {
  TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
  const auto tasks = write_tasks("resume.jsonl", 12, "sh -c 'sleep 1; echo {n}'");
  const std::string state = (dir_ / "state").string();
  const auto first_out = dir_ / "first.out";
  {
    ChildProcess first({TASKER_BINARY, "run", tasks, "-j", "2", "--progress", "none", "--state-dir", state},
                       {}, first_out.string());
    ASSERT_TRUE(eventually([&] { return parse_results(testing::read_file(first_out)).size() >= 3; }, 60s)) << testing::read_file(first_out);
    first.signal(SIGKILL);
    ASSERT_TRUE(first.wait_for(10s).has_value());
  }
  const auto first_results = parse_results(testing::read_file(first_out));
  ASSERT_LT(first_results.size(), 12u);

  const auto second_out = dir_ / "second.out";
  auto second = testing::run_command(std::string(TASKER_BINARY) + " run " + tasks +
                                     " -j 2 --progress none --state-dir " + state + " 2>&1 >" +
                                     second_out.string());
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_NE(second.output.find("12 tasks submitted before"), std::string::npos) << second.output;
  auto results = parse_results(testing::read_file(first_out) + testing::read_file(second_out));
  ASSERT_EQ(results.size(), 12u) << testing::read_file(second_out);
  for (const auto& [id, got] : results) EXPECT_EQ(got.size(), 1u) << id << " printed by both runs";
  EXPECT_NE(second.output.find("12 succeeded"), std::string::npos) << second.output;
  // The containers the killed run left behind are gone too.
  ASSERT_TRUE(results.begin()->second[0].run_id.has_value());
  auto endpoint = docker::endpoint_from_environment();
  docker::DockerClient client(*endpoint);
  auto left = client.list_containers(std::string(docker::kRunIdLabel) + "=" + *results.begin()->second[0].run_id);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << left->size() << " container(s) left";
}

// Two `tasker submit --wait` runs on the same queues, one agent: each run prints exactly its own
// results, none is lost or taken by the other.
TEST_F(MasterIntegrationTest, TwoMastersOnTheSameQueuesEachGetTheirOwnResults) {
  TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
  const std::string broker = "sqlite:" + (dir_ / "queue.db").string();
  {
    auto opened = open_broker(*parse_broker_address(broker));
    ASSERT_TRUE(opened.ok());
    ASSERT_TRUE((*opened)->create_queue("tasks", {}).ok());
    ASSERT_TRUE((*opened)->create_queue("results", {}).ok());
  }
  const auto a_tasks = write_tasks("a.jsonl", 6, "echo a{n}");
  const auto b_tasks = write_tasks("b.jsonl", 6, "echo b{n}");
  ChildProcess agent({TASKER_BINARY, "agent", "--broker", broker, "--tasks", "tasks", "--results", "results",
                      "--slots", "4", "--poll-wait", "1", "--network", "none"},
                     {}, (dir_ / "agent.log").string());
  auto submit = [&](const std::string& tasks, const std::string& name) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{TASKER_BINARY, "submit", tasks, "--wait", "--broker", broker, "--tasks",
                                 "tasks", "--results", "results", "--progress", "none", "--run-id", name},
        std::map<std::string, std::string>{}, (dir_ / (name + ".out")).string());
  };
  auto a = submit(a_tasks, "run-a");
  auto b = submit(b_tasks, "run-b");
  ASSERT_EQ(a->wait_for(120s), 0) << a->output();
  ASSERT_EQ(b->wait_for(120s), 0) << b->output();
  for (const auto& [process, prefix] : {std::pair{a.get(), "a"}, std::pair{b.get(), "b"}}) {
    auto results = parse_results(process->output());
    ASSERT_EQ(results.size(), 6u) << process->output();
    for (const auto& [id, got] : results) {
      ASSERT_EQ(got.size(), 1u) << id;
      EXPECT_EQ(got[0].payload.substr(0, 1), prefix) << id << " reached the wrong master";
      EXPECT_EQ(got[0].run_id, std::string("run-") + prefix);
    }
  }
}

// A supply of 100,000 tasks goes through `tasker submit` with bounded memory: the master never
// holds the whole supply.
TEST_F(MasterIntegrationTest, SubmitOf100000TasksStaysUnder100MiB) {
  const auto tasks = write_tasks("many.jsonl", 100000, "echo {n}");
  const std::string broker = "sqlite:" + (dir_ / "queue.db").string();
  // The queue must exist first, as with SQS.
  {
    auto address = parse_broker_address(broker);
    auto opened = open_broker(*address);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    ASSERT_TRUE((*opened)->create_queue("tasks", {}).ok());
  }
  // Under AddressSanitizer, freed memory is held in a quarantine of up to 256 MiB to catch use
  // after free; that is the checker's memory, not tasker's, so this child runs without it (the
  // option is ignored by a build without ASan).
  std::vector<std::string> env;
  std::string asan_options = "ASAN_OPTIONS=quarantine_size_mb=0";
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("ASAN_OPTIONS=")) {
      asan_options = std::string(*e) + ":quarantine_size_mb=0";
    } else {
      env.emplace_back(*e);
    }
  }
  env.push_back(asan_options);
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {TASKER_BINARY, "submit", tasks, "--broker", broker, "--tasks", "tasks"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    execve(TASKER_BINARY, argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  ASSERT_EQ(wait4(child, &status, 0, &usage), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const double peak_mib = usage.ru_maxrss / 1024.0;
  std::cout << "peak RSS of tasker submit for 100,000 tasks: " << peak_mib << " MiB\n";
  EXPECT_LT(peak_mib, 100.0);
  auto address = parse_broker_address(broker);
  auto opened = open_broker(*address);
  auto queue = (*opened)->open_queue("tasks");
  auto depth = (*queue)->depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->visible, 100000);
}

}  // namespace
}  // namespace tasker
