// The agent as users run it: `tasker agent` processes against a real queue (an SQLite file, and
// SQS on moto_server) and the real Docker daemon of the harness.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>
#include <sstream>

#include "docker/docker_client.h"
#include "http/http_client.h"
#include "docker/docker_runtime.h"
#include "docker/leftover_containers.h"
#include "tasker/queue.h"
#include "tasker/result.h"
#include "testing/agent_harness.h"
#include "testing/process.h"
#include "testing/services.h"

namespace tasker {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::eventually;

struct Backend {
  std::string name;
};

// Test names and logs show the backend by name, not as bytes.
void PrintTo(const Backend& backend, std::ostream* out) { *out << backend.name; }

class AgentIntegrationTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    image_ = image;
    static int counter = 0;
    const std::string unique = std::to_string(::getpid()) + "-" + std::to_string(++counter);
    dir_ = std::filesystem::temp_directory_path() / ("tasker-agent-it-" + unique);
    std::filesystem::create_directories(dir_);
    tasks_name_ = "tasks-" + unique;
    results_name_ = "results-" + unique;
    std::string endpoint;
    if (GetParam().name != "sqlite") {
      TASKER_REQUIRE_ENV(sqs_endpoint, "TASKER_TEST_SQS_ENDPOINT");
      endpoint = sqs_endpoint;
    }
    const testing::TestBroker test_broker = testing::test_broker(GetParam().name, dir_, endpoint);
    broker_address_ = test_broker.address;
    agent_env_ = test_broker.env;
    auto address = parse_broker_address(broker_address_);
    ASSERT_TRUE(address.ok()) << address.error().message;
    auto broker = open_broker(*address);
    ASSERT_TRUE(broker.ok()) << broker.error().message;
    broker_ = std::move(*broker);
  }

  void TearDown() override {
    // Stop agents still running the way an operator would, then remove what a killed one left.
    for (auto& agent : agents_) agent->signal(SIGTERM);
    for (auto& agent : agents_) agent->wait_for(30s);
    agents_.clear();
    if (auto endpoint = docker::endpoint_from_environment(); endpoint && !agent_names_.empty()) {
      docker::DockerClient client(*endpoint);
      for (const auto& name : agent_names_) docker::remove_containers_of_earlier_run(client, name);
    }
    if (broker_) {
      broker_->delete_queue(tasks_name_);
      broker_->delete_queue(results_name_);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void create_queues(std::chrono::seconds visibility) {
    QueueOptions options;
    options.visibility_timeout = visibility;
    ASSERT_TRUE(broker_->create_queue(tasks_name_, options).ok());
    ASSERT_TRUE(broker_->create_queue(results_name_, options).ok());
    tasks_ = std::move(*broker_->open_queue(tasks_name_));
    results_ = std::move(*broker_->open_queue(results_name_));
  }

  // Starts `tasker agent` named `name` (made unique per process, since names label containers).
  ChildProcess& start_agent(std::string name, std::vector<std::string> extra = {}) {
    name += "-" + std::to_string(::getpid());
    agent_names_.push_back(name);
    std::vector<std::string> argv = {TASKER_BINARY, "agent", "--broker", broker_address_,
                                     "--tasks", tasks_name_, "--results", results_name_,
                                     "--name", name, "--poll-wait", "1", "--network", "none"};
    if (std::find(extra.begin(), extra.end(), "--slots") == extra.end()) extra.insert(extra.end(), {"--slots", "2"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    agents_.push_back(std::make_unique<ChildProcess>(argv, agent_env_, (dir_ / (name + ".log")).string()));
    return *agents_.back();
  }

  std::string task(const std::string& id, const std::string& command, const std::string& extra = "") {
    return testing::task_json(id, image_, command, extra);
  }

  void send(const std::vector<std::string>& bodies) {
    for (std::size_t i = 0; i < bodies.size(); i += Queue::kMaxBatch) {
      std::vector<OutgoingMessage> batch(
          bodies.begin() + i, bodies.begin() + std::min(bodies.size(), i + Queue::kMaxBatch));
      auto sent = tasks_->send(batch);
      ASSERT_TRUE(sent.ok()) << sent.error().message;
      for (const auto& status : *sent) ASSERT_TRUE(status.ok()) << status.error().message;
    }
  }

  std::map<std::string, std::vector<TaskResult>> collect(std::size_t count, std::chrono::seconds timeout) {
    return testing::collect_results(*results_, count, timeout);
  }

  // A fault test's last check: no result of an answered task comes again (none reduced twice).
  // Waits past the agents' publish batching, so a late duplicate would have arrived.
  void expect_no_second_result() {
    auto late = collect(1, 3s);
    for (const auto& [id, results] : late) ADD_FAILURE() << id << " was answered a second time";
  }

  // How many tasks the agent log says ran to a result ("task X: succeeded/failed").
  static int tasks_logged(const std::string& log, const std::string& id) {
    const std::regex line("task " + id + ": (succeeded|failed)");
    return static_cast<int>(std::distance(std::sregex_iterator(log.begin(), log.end(), line),
                                          std::sregex_iterator()));
  }

  std::string image_;
  std::filesystem::path dir_;
  std::string broker_address_;
  std::map<std::string, std::string> agent_env_;
  std::string tasks_name_, results_name_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Queue> tasks_, results_;
  std::vector<std::unique_ptr<ChildProcess>> agents_;
  std::vector<std::string> agent_names_;
};

// The seed's shape: `sh -c 'sleep 1; echo 1'` gives payload "1" through a real agent.
TEST_P(AgentIntegrationTest, SeedTaskRunsAndItsResultArrives) {
  create_queues(30s);
  start_agent("seed");
  send({task("seed-1", "sh -c 'sleep 1; echo 1'")});
  auto got = collect(1, 60s);
  ASSERT_EQ(got["seed-1"].size(), 1u);
  EXPECT_TRUE(got["seed-1"][0].is_success);
  EXPECT_EQ(got["seed-1"][0].payload, "1");
  EXPECT_EQ(got["seed-1"][0].agent, "seed-" + std::to_string(::getpid()));
}

// A 10 s task on a queue whose visibility is 3 s, with a second agent waiting: the heartbeat
// keeps it hidden through three visibility periods, so it runs exactly once.
TEST_P(AgentIntegrationTest, LongTaskOutlivesVisibilityAndRunsOnce) {
  create_queues(3s);
  auto& a = start_agent("long-a", {"--visibility", "3"});
  auto& b = start_agent("long-b", {"--visibility", "3"});
  send({task("long", "sh -c 'sleep 10; echo done'")});
  auto got = collect(1, 90s);
  ASSERT_EQ(got["long"].size(), 1u);
  EXPECT_EQ(got["long"][0].payload, "done");
  // Nothing else may arrive, and the agents' logs must show one run between them.
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(collect(1, 1s).size(), 0u);
  EXPECT_EQ(tasks_logged(a.output(), "long") + tasks_logged(b.output(), "long"), 1);
}

// Three agents on one queue run 60 tasks (ten rounds of their six slots): every result arrives
// exactly once.
TEST_P(AgentIntegrationTest, ThreeAgentsRun60TasksWithEveryResultOnce) {
  create_queues(30s);
  for (const char* name : {"many-a", "many-b", "many-c"}) start_agent(name);
  std::vector<std::string> bodies;
  for (int i = 0; i < 60; ++i) bodies.push_back(task("n" + std::to_string(i), "echo " + std::to_string(i)));
  send(bodies);
  auto got = collect(60, 240s);
  ASSERT_EQ(got.size(), 60u);
  for (int i = 0; i < 60; ++i) {
    const auto& results = got["n" + std::to_string(i)];
    ASSERT_EQ(results.size(), 1u) << "n" << i;
    EXPECT_EQ(results[0].payload, std::to_string(i));
  }
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(collect(1, 1s).size(), 0u) << "a result arrived twice";
}

// An agent killed mid-task: after one visibility period another agent takes the task and
// completes it.
TEST_P(AgentIntegrationTest, KilledAgentsTaskIsCompletedByAnother) {
  create_queues(4s);
  auto& doomed = start_agent("doomed", {"--visibility", "4"});
  send({task("orphan", "sh -c 'sleep 3; echo survived'")});
  ASSERT_TRUE(eventually([&] { return tasks_->depth()->in_flight == 1; }, 30s));
  doomed.signal(SIGKILL);
  ASSERT_TRUE(doomed.wait_for(10s).has_value());
  start_agent("heir", {"--visibility", "4"});
  auto got = collect(1, 60s);
  ASSERT_EQ(got["orphan"].size(), 1u);
  EXPECT_EQ(got["orphan"][0].payload, "survived");
  EXPECT_EQ(got["orphan"][0].agent, "heir-" + std::to_string(::getpid()));
  EXPECT_EQ(got["orphan"][0].attempt, 2);
  expect_no_second_result();
}

// SIGTERM: the running task finishes and is answered, nothing more is taken, exit 0.
TEST_P(AgentIntegrationTest, SigtermDrainsRunningTasksAndExitsZero) {
  create_queues(30s);
  auto& agent = start_agent("drain", {"--slots", "1", "--grace", "30"});
  send({task("first", "sh -c 'sleep 3; echo finished'")});
  ASSERT_TRUE(eventually([&] { return tasks_->depth()->in_flight == 1; }, 30s));
  send({task("second", "echo never")});
  std::this_thread::sleep_for(500ms);
  agent.signal(SIGTERM);
  auto status = agent.wait_for(60s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << agent.output();
  auto got = collect(1, 10s);
  ASSERT_EQ(got["first"].size(), 1u);
  EXPECT_EQ(got["first"][0].payload, "finished");
  EXPECT_EQ(got.count("second"), 0u);
  EXPECT_TRUE(eventually([&] { return tasks_->depth()->visible == 1; }, 10s));
}

// SIGTERM with a task longer than the grace period: it is killed, handed back at once (visible
// again, no result), its container removed, and the agent exits 0.
TEST_P(AgentIntegrationTest, SigtermPastGraceHandsTheTaskBack) {
  create_queues(60s);
  auto& agent = start_agent("impatient", {"--slots", "1", "--grace", "1"});
  send({task("slow", "sh -c 'sleep 60; echo never'")});
  ASSERT_TRUE(eventually([&] { return tasks_->depth()->in_flight == 1; }, 30s));
  std::this_thread::sleep_for(1s);
  agent.signal(SIGTERM);
  auto status = agent.wait_for(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << agent.output();
  EXPECT_TRUE(eventually([&] { return tasks_->depth()->visible == 1; }, 10s));
  EXPECT_EQ(collect(1, 2s).size(), 0u);
  auto endpoint = docker::endpoint_from_environment();
  docker::DockerClient client(*endpoint);
  auto left = client.list_containers(std::string(docker::kAgentLabel) + "=impatient-" +
                                     std::to_string(::getpid()));
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

// Poison: not JSON, not a task, over its attempts — answered when the id is readable, deleted,
// and the agent goes on to run the good task after them.
TEST_P(AgentIntegrationTest, PoisonMessagesAreAnsweredAndTheAgentGoesOn) {
  create_queues(30s);
  // Over its attempts: delivered once already (taken and let go), and allowed only one.
  send({task("tired", "echo x", R"(,"maxAttempts":1)")});
  ASSERT_TRUE(eventually([&] {
    auto taken = tasks_->receive(1, 1s, std::chrono::seconds(1));
    return taken.ok() && !taken->empty();
  }, 10s));
  send({"definitely not json", R"({"id":"no-image","arguments":"true"})",
        task("unbalanced", "sh -c 'echo"), task("good", "echo fine")});
  std::this_thread::sleep_for(1500ms);
  auto& agent = start_agent("poison");
  auto got = collect(4, 60s);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got["no-image"][0].payload, "invalid task: \"image\": missing (required)");
  EXPECT_EQ(got["unbalanced"][0].payload, "invalid task: \"arguments\": unbalanced single quote");
  EXPECT_EQ(got["tired"][0].error, "attempts");
  EXPECT_TRUE(got["good"][0].is_success);
  EXPECT_TRUE(eventually([&] {
    auto depth = tasks_->depth();
    return depth.ok() && depth->visible == 0 && depth->in_flight == 0;
  }, 10s));
  EXPECT_NE(agent.output().find("deleting message"), std::string::npos);
  EXPECT_FALSE(agent.wait_for(0ms).has_value()) << "the agent exited";
}

// A task printing 70,000 NUL bytes has a result of 420,000 bytes once escaped, over the queue's
// 256 KiB: it is answered, cut to fit with "truncated": true, and the result of a task that ends
// with it is not held up (it used to be retried for ever and the run hung).
TEST_P(AgentIntegrationTest, OversizeResultIsTruncatedAndAnswered) {
  create_queues(30s);
  start_agent("oversize");
  send({task("zeros", "sh -c 'head -c 70000 /dev/zero'"), task("beside", "echo fine")});
  auto got = collect(2, 60s);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got["zeros"].size(), 1u);
  const TaskResult& zeros = got["zeros"][0];
  EXPECT_TRUE(zeros.is_success) << zeros.payload.substr(0, 200);
  EXPECT_EQ(zeros.truncated, true);
  EXPECT_GT(zeros.payload.size(), 40000u);
  EXPECT_EQ(zeros.payload, std::string(zeros.payload.size(), '\0'));
  EXPECT_EQ(got["beside"][0].payload, "fine");
  EXPECT_TRUE(eventually([&] {
    auto depth = tasks_->depth();
    return depth.ok() && depth->visible == 0 && depth->in_flight == 0;
  }, 10s));
}

// Observability: --log-json writes one JSON object per line, and --metrics-addr serves the
// task counters in Prometheus' text format, every metric labelled with the agent's name, with its
// version and the time of its last poll, and the address is logged at start.
TEST_P(AgentIntegrationTest, JsonLogsAndPrometheusMetrics) {
  create_queues(30s);
  const std::string port = std::to_string(20000 + ::getpid() % 20000);
  auto& agent = start_agent("observed", {"--log-json", "--metrics-addr", "127.0.0.1:" + port});
  const std::string label = "agent=\"" + agent_names_.back() + "\"";
  const auto before_start = std::chrono::system_clock::now();
  send({task("ok", "echo fine"), task("bad", "sh -c 'exit 4'")});
  ASSERT_EQ(collect(2, 60s).size(), 2u);
  http::CurlTransport transport({});
  http::Request request;
  request.url = "http://127.0.0.1:" + port + "/metrics";
  std::string metrics;
  ASSERT_TRUE(eventually([&] {
    auto response = transport.perform(request);
    if (!response || response->status != 200) return false;
    metrics = response->body;
    return metrics.find("tasker_agent_tasks_total{" + label + ",outcome=\"failed\"} 1") !=
           std::string::npos;
  }, 10s)) << metrics;
  EXPECT_NE(metrics.find("tasker_agent_tasks_total{" + label + ",outcome=\"succeeded\"} 1"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tasker_agent_tasks_total{" + label + ",outcome=\"received\"} 2"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tasker_agent_task_duration_seconds_count{" + label + "} 2"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tasker_agent_info{" + label + ",version=\"" TASKER_VERSION "\"} 1"),
            std::string::npos) << metrics;
  // The last poll is a Unix time after the agent started (and so not 0: it has polled).
  const std::string poll = "tasker_agent_last_poll_timestamp_seconds{" + label + "} ";
  const auto at = metrics.find(poll);
  ASSERT_NE(at, std::string::npos) << metrics;
  const double last_poll = std::stod(metrics.substr(at + poll.size()));
  EXPECT_GE(last_poll, std::chrono::duration<double>(before_start.time_since_epoch()).count() - 5);
  EXPECT_NE(agent.output().find("metrics at http://127.0.0.1:" + port + "/metrics"),
            std::string::npos);
  // Every metric the Grafana dashboard in docs/ queries is one the agent serves.
  std::ifstream file(TASKER_SOURCE_DIR "/docs/grafana-dashboard.json");
  const auto dashboard = nlohmann::json::parse(file, nullptr, false);
  ASSERT_TRUE(dashboard.is_object() && dashboard.contains("panels")) << "docs/grafana-dashboard.json";
  int queried = 0;
  const std::regex metric_name(R"(tasker_[a-z_]+)");
  for (const auto& panel : dashboard["panels"]) {
    ASSERT_TRUE(panel.contains("targets")) << panel.dump();
    for (const auto& target : panel["targets"]) {
      const std::string expr = target.at("expr").get<std::string>();
      for (std::sregex_iterator it(expr.begin(), expr.end(), metric_name), end; it != end; ++it) {
        std::string name = it->str();
        for (const char* suffix : {"_bucket", "_count", "_sum"}) {
          const std::string s = suffix;
          if (name.size() > s.size() && name.ends_with(s)) name.resize(name.size() - s.size());
        }
        EXPECT_NE(metrics.find("# TYPE " + name + " "), std::string::npos)
            << "the dashboard queries " << name << ", which the agent does not serve";
        ++queried;
      }
    }
  }
  EXPECT_GE(queried, 7);
  agent.signal(SIGTERM);
  ASSERT_TRUE(agent.wait_for(30s).has_value());
  std::istringstream lines(agent.output());
  std::string line;
  int parsed = 0;
  while (std::getline(lines, line)) {
    auto object = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(object.is_object()) << "not a JSON log line: " << line;
    EXPECT_TRUE(object.contains("time") && object.contains("level") && object.contains("msg")) << line;
    ++parsed;
  }
  EXPECT_GE(parsed, 3);
}

// The Docker daemon restarted mid-run: tasks cut short are handed back or answered, the agent
// waits for the daemon, and every task ends with exactly one result.
TEST_P(AgentIntegrationTest, DockerDaemonRestartMidRunEveryTaskAnswered) {
  if (GetParam().name != "sqlite") GTEST_SKIP() << "the daemon does not depend on the queue backend";
  const std::string harness_dir = testing::env_or_empty("TASKER_HARNESS_DIR");
  if (harness_dir.empty() || !std::filesystem::exists(harness_dir + "/dockerd.pid")) {
    GTEST_SKIP() << "the daemon is not the harness's own, so it is not restarted";
  }
  create_queues(10s);
  auto& agent = start_agent("restart", {"--visibility", "10"});
  std::vector<std::string> bodies;
  for (int i = 0; i < 6; ++i) bodies.push_back(task("r" + std::to_string(i), "sh -c 'sleep 2; echo " + std::to_string(i) + "'"));
  send(bodies);
  ASSERT_TRUE(eventually([&] { return tasks_->depth()->in_flight >= 1; }, 30s));
  auto restart = testing::run_command(std::string("bash ") + TASKER_SOURCE_DIR + "/tests/harness.sh restart-docker 2>&1");
  ASSERT_EQ(restart.status, 0) << restart.output;
  auto got = collect(6, 180s);
  EXPECT_EQ(got.size(), 6u) << agent.output();
  for (const auto& [id, results] : got) EXPECT_EQ(results.size(), 1u) << id;
  expect_no_second_result();
  EXPECT_FALSE(agent.wait_for(0ms).has_value()) << "the agent exited: " << agent.output();
}

// The SQS endpoint frozen (SIGSTOP) for 15 s mid-run: the agent logs, backs off, and carries on
// when it returns; every task is answered once.
TEST_P(AgentIntegrationTest, QueueEndpointPausedThenResumedEveryTaskAnswered) {
  if (GetParam().name == "sqlite") GTEST_SKIP() << "needs a queue endpoint to pause";
  const std::string harness_dir = testing::env_or_empty("TASKER_HARNESS_DIR");
  if (harness_dir.empty() || !std::filesystem::exists(harness_dir + "/moto.pid")) {
    GTEST_SKIP() << "moto_server is not the harness's own";
  }
  pid_t moto = 0;
  std::ifstream(harness_dir + "/moto.pid") >> moto;
  ASSERT_GT(moto, 0);
  create_queues(30s);
  auto& agent = start_agent("paused");
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) bodies.push_back(task("p" + std::to_string(i), "sh -c 'sleep 1; echo " + std::to_string(i) + "'"));
  send(bodies);
  ASSERT_TRUE(eventually([&] { return tasks_->depth()->in_flight >= 1; }, 30s));
  ::kill(moto, SIGSTOP);
  std::this_thread::sleep_for(15s);
  ::kill(moto, SIGCONT);
  auto got = collect(4, 120s);
  EXPECT_EQ(got.size(), 4u) << agent.output();
  for (const auto& [id, results] : got) EXPECT_EQ(results.size(), 1u) << id;
  expect_no_second_result();
  EXPECT_FALSE(agent.wait_for(0ms).has_value()) << "the agent exited: " << agent.output();
}

INSTANTIATE_TEST_SUITE_P(Backends, AgentIntegrationTest,
                         ::testing::Values(Backend{"sqlite"}, Backend{"moto"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tasker
