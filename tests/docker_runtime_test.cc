#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "docker_test_support.h"

namespace tasker::docker {
namespace {

using tasker::testing::containers_of;
using tasker::testing::docker_task;

// Resident memory of this process in KiB (`VmRSS` or `VmHWM` from /proc/self/status).
long status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

class DockerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    image_ = image;
    auto endpoint = parse_docker_host(docker_host);
    ASSERT_TRUE(endpoint) << endpoint.error().message;
    client_ = std::make_unique<DockerClient>(*endpoint);
    runtime_ = std::make_unique<DockerRuntime>(*client_);
    agent_ = tasker::testing::test_agent_name();
  }

  // Every test leaves no container behind, once its runtime has finished removing.
  void TearDown() override {
    if (!client_) return;
    runtime_.reset();
    EXPECT_TRUE(containers_of(*client_, agent_).empty()) << "containers left by " << agent_;
  }

  RunDetail run(const Task& task, std::stop_token stop = {}) {
    return runtime_->run_detailed(task, RunContext{agent_, 1}, stop);
  }

  std::string image_;
  std::string agent_;
  std::unique_ptr<DockerClient> client_;
  std::unique_ptr<DockerRuntime> runtime_;
};

// Given docker-tasker's seed example, we should answer with its last stdout line.
TEST_F(DockerRuntimeTest, SeedExampleGivesLastStdoutLine) {
  const auto detail = run(docker_task("seed", image_, {"sh", "-c", "sleep 1; echo 1"}));
  const TaskResult& result = detail.outcome.result;
  EXPECT_TRUE(result.is_success) << result.payload;
  EXPECT_EQ(result.payload, "1");
  EXPECT_EQ(result.id, "seed");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.agent, agent_);
  EXPECT_EQ(result.attempt, 1);
  EXPECT_GE(result.duration_ms.value_or(0), 1000);
  EXPECT_FALSE(detail.outcome.retryable);
}

// Given a task writing to both streams, stdout and stderr should not mix.
TEST_F(DockerRuntimeTest, SeparatesStdoutFromStderr) {
  const auto detail = run(docker_task(
      "streams", image_,
      {"sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2; echo err3 >&2"}));
  EXPECT_TRUE(detail.outcome.result.is_success) << detail.outcome.result.payload;
  EXPECT_EQ(detail.outcome.result.payload, "out2");
  EXPECT_EQ(detail.stdout_tail, "out1\nout2\n");
  EXPECT_EQ(detail.stderr_tail, "err1\nerr2\nerr3\n");
}

// Given containers that print and exit at once, not one should lose its output.
TEST_F(DockerRuntimeTest, ShortLivedContainersLoseNoOutput) {
  for (int i = 0; i < 4; ++i) {
    const std::string word = "fast-" + std::to_string(i);
    const auto result = run(docker_task(word, image_, {"echo", word})).outcome.result;
    EXPECT_TRUE(result.is_success) << result.payload;
    EXPECT_EQ(result.payload, word);
  }
}

// Given a non-zero exit, we should report the code and the last stderr line.
TEST_F(DockerRuntimeTest, NonZeroExitReportsCodeAndLastStderrLine) {
  const auto failed =
      run(docker_task("exit3", image_,
                      {"sh", "-c", "echo partial; echo first >&2; echo boom >&2; exit 3"}))
          .outcome;
  EXPECT_FALSE(failed.result.is_success);
  EXPECT_FALSE(failed.retryable);
  EXPECT_EQ(failed.result.exit_code, 3);
  EXPECT_EQ(failed.result.error, "exit");
  EXPECT_EQ(failed.result.payload, "exit code 3: boom");

  const auto quiet = run(docker_task("exit2", image_, {"sh", "-c", "exit 2"})).outcome.result;
  EXPECT_EQ(quiet.exit_code, 2);
  EXPECT_EQ(quiet.payload, "exit code 2");
}

// Given a task's settings, the container should run with them.
TEST_F(DockerRuntimeTest, TaskSettingsReachTheContainer) {
  Task task = docker_task("settings", image_, {"-c", "echo \"$GREETING|$(pwd)|$(id -u)\""});
  task.env = {{"GREETING", "hello world"}};
  task.workdir = "/tmp";
  task.user = "65534";
  task.entrypoint = std::vector<std::string>{"sh"};
  task.cpus = 0.5;
  task.memory_bytes = 64 << 20;
  const auto result = run(task).outcome.result;
  EXPECT_TRUE(result.is_success) << result.payload;
  EXPECT_EQ(result.payload, "hello world|/tmp|65534");
}

// Given a task that outlives its timeout, we should kill it, say so, and remove it.
TEST_F(DockerRuntimeTest, TimeoutKillsAndRemoves) {
  Task task = docker_task("slow", image_, {"sleep", "60"});
  task.timeout_seconds = 1;
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = run(task).outcome;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
  EXPECT_FALSE(outcome.result.is_success);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_EQ(outcome.result.error, "timeout");
  EXPECT_EQ(outcome.result.payload, "timeout after 1 s");
  runtime_->flush_removals();
  EXPECT_TRUE(containers_of(*client_, agent_).empty());
}

// Given a task over its memory limit, we should report it OOM-killed, not a bare exit 137.
TEST_F(DockerRuntimeTest, OomKilledTaskSaysSo) {
  Task task =
      docker_task("oom", image_, {"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"});
  task.memory_bytes = 16 << 20;
  const auto result = run(task).outcome.result;
  EXPECT_FALSE(result.is_success);
  EXPECT_EQ(result.error, "oom");
  EXPECT_EQ(result.payload, "out of memory (limit 16 MiB)");
}

// Given a task printing 100 MiB, this process's memory should stay bounded.
TEST_F(DockerRuntimeTest, HundredMebibytesOfOutputKeepMemoryBounded) {
  // Reset the peak so VmHWM measures this run only (Linux: "5" clears the high-water mark).
  std::ofstream("/proc/self/clear_refs") << "5";
  const long before = status_kib("VmRSS");
  const auto detail =
      run(docker_task("loud", image_, {"sh", "-c", "yes | head -c 104857600; echo done"}));
  const long peak = status_kib("VmHWM");
  EXPECT_TRUE(detail.outcome.result.is_success) << detail.outcome.result.payload;
  EXPECT_EQ(detail.outcome.result.payload, "done");
  EXPECT_LE(detail.stdout_tail.size(), 64u * 1024);
  EXPECT_LT(peak - before, 32 * 1024) << "peak RSS grew by " << (peak - before) << " KiB";
}

// Given an invalid task, we should answer it with the field at fault and not retry it.
TEST_F(DockerRuntimeTest, InvalidTaskIsAnsweredNotRetried) {
  Task task = docker_task("bad", "Not A Valid/Image", {"true"});
  const auto outcome = run(task).outcome;
  EXPECT_FALSE(outcome.result.is_success);
  EXPECT_FALSE(outcome.retryable);
  EXPECT_EQ(outcome.result.error, "invalid-task");
  EXPECT_EQ(outcome.result.payload.rfind("invalid task: \"image\": ", 0), 0u)
      << outcome.result.payload;
}

// Given a command the image does not have, we should say the container could not start.
TEST_F(DockerRuntimeTest, MissingExecutableCannotStart) {
  const auto result = run(docker_task("noexec", image_, {"/no/such/binary"})).outcome.result;
  EXPECT_FALSE(result.is_success);
  EXPECT_EQ(result.error, "start");
  EXPECT_NE(result.payload.find("/no/such/binary"), std::string::npos) << result.payload;
}

// Given a stop request while the task runs, we should kill it, remove it and hand it back.
TEST_F(DockerRuntimeTest, StopRequestKillsAndIsRetryable) {
  std::stop_source stop;
  std::thread stopper([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  const auto outcome =
      run(docker_task("stopped", image_, {"sleep", "60"}), stop.get_token()).outcome;
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
  EXPECT_TRUE(outcome.retryable);
  EXPECT_EQ(outcome.result.error, "cancelled");
}

// Given no daemon at DOCKER_HOST, the outcome should name the address and be retryable.
TEST_F(DockerRuntimeTest, UnreachableDaemonIsRetryable) {
  DockerClient nowhere(*parse_docker_host("unix:///tmp/tasker-no-such-docker.sock"));
  DockerRuntime runtime(nowhere);
  const auto outcome =
      runtime.run(docker_task("lost", image_, {"true"}), RunContext{agent_, 1}, {});
  EXPECT_TRUE(outcome.retryable);
  EXPECT_EQ(outcome.result.error, "docker");
  EXPECT_EQ(outcome.result.payload.rfind(
                "docker daemon unreachable at unix:///tmp/tasker-no-such-docker.sock: ", 0),
            0u)
      << outcome.result.payload;
  EXPECT_FALSE(runtime.check_ready());
  EXPECT_TRUE(runtime_->check_ready());
}

// A transport that drops every wait call, as a daemon restarting mid-task would.
class DaemonGoesAwayDuringWait : public http::Transport {
 public:
  explicit DaemonGoesAwayDuringWait(const Endpoint& endpoint)
      : real_(http::CurlTransport::Options{endpoint.unix_socket, "tasker-test"}) {}
  Expected<http::Response> perform(const http::Request& request) override {
    if (request.url.find("/wait") != std::string::npos) {
      return Error::transient_failure(request.url + ": Connection reset by peer");
    }
    return real_.perform(request);
  }

 private:
  http::CurlTransport real_;
};

// Given the daemon going away mid-task, we should return a retryable outcome and clean up.
TEST_F(DockerRuntimeTest, DaemonGoingAwayMidTaskIsAnOutcome) {
  DockerClient flaky(client_->endpoint(), [](const Endpoint& endpoint) {
    return std::make_unique<DaemonGoesAwayDuringWait>(endpoint);
  });
  {
    DockerRuntime runtime(flaky);
    const auto outcome =
        runtime.run(docker_task("away", image_, {"sleep", "60"}), RunContext{agent_, 1}, {});
    EXPECT_TRUE(outcome.retryable);
    EXPECT_EQ(outcome.result.error, "docker");
    EXPECT_NE(outcome.result.payload.find("dropped the connection"), std::string::npos)
        << outcome.result.payload;
  }
  EXPECT_TRUE(containers_of(*client_, agent_).empty());
}

// Given tasks run from several threads at once, each should get its own output.
TEST_F(DockerRuntimeTest, ConcurrentTasksKeepTheirOwnOutput) {
  std::vector<std::thread> threads;
  std::vector<TaskResult> results(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const std::string word = "parallel-" + std::to_string(i);
      results[i] =
          run(docker_task(word, image_, {"sh", "-c", "sleep 0.3; echo " + word})).outcome.result;
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(results[i].is_success) << results[i].payload;
    EXPECT_EQ(results[i].payload, "parallel-" + std::to_string(i));
  }
}

}  // namespace
}  // namespace tasker::docker
