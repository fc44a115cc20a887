// Task signing end to end: `tasker agent` and `tasker submit` processes with TASKER_SIGNING_KEY
// against a real queue (an SQLite file, and SQS on moto_server) and the harness's real Docker
// daemon; boto3 with Python's hmac as an independent signer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "docker/docker_client.h"
#include "docker/leftover_containers.h"
#include "tasker/master.h"
#include "tasker/queue.h"
#include "tasker/result.h"
#include "tasker/signing.h"
#include "testing/agent_harness.h"
#include "testing/docker_events.h"
#include "testing/process.h"
#include "testing/services.h"

namespace tasker {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::read_file;
namespace fs = std::filesystem;

constexpr const char* kKey = "integration-test key: not a real secret";
constexpr const char* kOtherKey = "someone else's key, also long enough";
constexpr const char* kInteropScript = TASKER_SOURCE_DIR "/tests/interop/sqs_interop.py";

struct Backend {
  std::string name;
};

void PrintTo(const Backend& backend, std::ostream* out) { *out << backend.name; }

SigningKey key_of(const char* text) { return *SigningKey::from_text(text); }

class SigningIntegrationTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    image_ = image;
    started_ = std::time(nullptr);
    static int counter = 0;
    const std::string unique = std::to_string(::getpid()) + "-" + std::to_string(++counter);
    dir_ = fs::temp_directory_path() / ("tasker-signing-it-" + unique);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    tasks_name_ = "signed-tasks-" + unique;
    results_name_ = "signed-results-" + unique;
    agent_name_ = "signing-" + unique;
    if (GetParam().name != "sqlite") {
      TASKER_REQUIRE_ENV(sqs_endpoint, "TASKER_TEST_SQS_ENDPOINT");
      endpoint_ = sqs_endpoint;
    }
    const testing::TestBroker test_broker = testing::test_broker(GetParam().name, dir_, endpoint_);
    broker_address_ = test_broker.address;
    env_ = test_broker.env;
    auto broker = open_broker(*parse_broker_address(broker_address_));
    ASSERT_TRUE(broker.ok()) << broker.error().message;
    broker_ = std::move(*broker);
    ASSERT_TRUE(broker_->create_queue(tasks_name_, {}).ok());
    ASSERT_TRUE(broker_->create_queue(results_name_, {}).ok());
    tasks_ = std::move(*broker_->open_queue(tasks_name_));
    results_ = std::move(*broker_->open_queue(results_name_));
  }

  void TearDown() override {
    if (agent_) {
      agent_->signal(SIGTERM);
      agent_->wait_for(30s);
      EXPECT_EQ(agent_->output().find(kKey), std::string::npos) << "the agent logged its key";
    }
    if (auto endpoint = docker::endpoint_from_environment(); endpoint) {
      docker::DockerClient client(*endpoint);
      docker::remove_containers_of_earlier_run(client, agent_name_);
    }
    if (broker_) {
      (void)broker_->delete_queue(tasks_name_);
      (void)broker_->delete_queue(results_name_);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::map<std::string, std::string> env_with_key(const char* key = kKey) const {
    auto env = env_;
    env["TASKER_SIGNING_KEY"] = key;
    return env;
  }

  // Starts `tasker agent` on this test's queues with the test's signing key (or `env`).
  void start_agent(std::optional<std::map<std::string, std::string>> env = std::nullopt) {
    agent_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{TASKER_BINARY, "agent", "--broker", broker_address_, "--tasks",
                                 tasks_name_, "--results", results_name_, "--name", agent_name_,
                                 "--poll-wait", "1", "--network", "none", "--slots", "2"},
        env ? *env : env_with_key(), (dir_ / "agent.log").string());
  }

  // Starts `tasker submit --wait` on `input` with `env`, logging to `log` in the test's folder.
  std::unique_ptr<ChildProcess> submit_wait(const fs::path& input,
                                            const std::map<std::string, std::string>& env,
                                            int timeout_seconds, const std::string& log) const {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{TASKER_BINARY, "submit", "--broker", broker_address_, "--tasks",
                                 tasks_name_, "--results", results_name_, "--wait", "--timeout",
                                 std::to_string(timeout_seconds), "--progress", "none",
                                 input.string()},
        env, (dir_ / log).string());
  }

  // The results a submitter printed, by task id.
  static std::map<std::string, std::vector<TaskResult>> results_in(const std::string& output) {
    std::map<std::string, std::vector<TaskResult>> got;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      if (auto result = parse_result(line); result.ok()) got[result->id].push_back(*result);
    }
    return got;
  }

  std::string task(const std::string& id, const std::string& command) const {
    return testing::task_json(id, image_, command);
  }

  void send(const std::vector<OutgoingMessage>& messages) {
    auto sent = tasks_->send(messages);
    ASSERT_TRUE(sent.ok()) << sent.error().message;
    for (const auto& status : *sent) ASSERT_TRUE(status.ok()) << status.error().message;
  }

  std::map<std::string, std::vector<TaskResult>> collect(std::size_t count, std::chrono::seconds timeout) {
    return testing::collect_results(*results_, count, timeout);
  }

  // Submits `tasks` through the master library with `key`, without waiting for results.
  void submit_signed(const std::vector<Task>& tasks, const SigningKey& key) {
    MasterOptions options;
    options.tasks_queue = tasks_name_;
    options.results_queue = results_name_;
    options.submit_only = true;
    options.signing_key = key;
    Master master(*broker_, options);
    std::size_t next = 0;
    auto report = master.run(
        [&]() -> std::optional<Expected<Task>> {
          if (next == tasks.size()) return std::nullopt;
          return Expected<Task>(tasks[next++]);
        },
        [](const TaskResult&) {});
    ASSERT_TRUE(report.ok()) << report.error().message;
  }

  Task echo_task(const std::string& id, const std::string& word) const {
    Task task;
    task.id = id;
    task.image = image_;
    task.argv = {"echo", word};
    return task;
  }

  std::string image_;
  std::time_t started_ = 0;
  fs::path dir_;
  std::string broker_address_, endpoint_;
  std::map<std::string, std::string> env_;
  std::string tasks_name_, results_name_, agent_name_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Queue> tasks_, results_;
  std::unique_ptr<ChildProcess> agent_;
};

// Given the same key for `tasker submit --wait` and `tasker agent`, every task runs and its
// result reaches the submitter.
TEST_P(SigningIntegrationTest, SignedTasksFromTheMasterRunAndTheirResultsArrive) {
  start_agent();
  const fs::path input = dir_ / "tasks.jsonl";
  std::ofstream(input) << task("one", "echo 1") << "\n"
                       << task("two", "sh -c 'echo 2'") << "\n"
                       << task("three", "echo 3") << "\n";
  auto submit = submit_wait(input, env_with_key(), 120, "submit.log");
  ASSERT_EQ(submit->wait_for(150s), 0) << submit->output() << "\nagent:\n" << agent_->output();
  auto got = results_in(submit->output());
  ASSERT_EQ(got.size(), 3u) << submit->output();
  int word = 1;
  for (const char* id : {"one", "two", "three"}) {
    ASSERT_EQ(got[id].size(), 1u) << id;
    EXPECT_EQ(got[id][0].payload, std::to_string(word++)) << id;
    EXPECT_TRUE(got[id][0].is_success) << id;
  }
}

// Given a key being rotated, halfway through: the agent still signs with the old key and also
// accepts the new one, the submitter signs with the new key and also accepts the old one. Every
// task should run and every result be reduced; a submitter with only the new key should then drop
// the agent's results (signed with the old key) rather than reduce them.
TEST_P(SigningIntegrationTest, KeyRotationHalfwayTasksAndResultsVerifyBothWays) {
  constexpr const char* kNewKey = "the rotated-in key: not a real secret either";
  auto agent_env = env_with_key(kKey);
  agent_env["TASKER_SIGNING_KEY_ACCEPT"] = kNewKey;
  start_agent(agent_env);
  const fs::path input = dir_ / "tasks.jsonl";
  std::ofstream(input) << task("one", "echo 1") << "\n" << task("two", "echo 2") << "\n";
  auto submit_env = env_with_key(kNewKey);
  submit_env["TASKER_SIGNING_KEY_ACCEPT"] = kKey;
  auto submit = submit_wait(input, submit_env, 120, "submit.log");
  ASSERT_EQ(submit->wait_for(150s), 0) << submit->output() << "\nagent:\n" << agent_->output();
  auto got = results_in(submit->output());
  ASSERT_EQ(got.size(), 2u) << submit->output();
  ASSERT_EQ(got["one"].size(), 1u);
  EXPECT_EQ(got["one"][0].payload, "1");
  ASSERT_EQ(got["two"].size(), 1u);
  EXPECT_EQ(got["two"][0].payload, "2");
  EXPECT_EQ(submit->output().find("unsigned or forged"), std::string::npos) << submit->output();

  // Without the old key accepted, the same agent's results are not trusted.
  std::ofstream(input) << task("three", "echo 3") << "\n";
  auto strict = submit_wait(input, env_with_key(kNewKey), 120, "strict.log");
  EXPECT_TRUE(testing::eventually(
      [&] { return strict->output().find("not a result of this run's agents") != std::string::npos; },
      60s))
      << strict->output() << "\nagent:\n" << agent_->output();
  strict->signal(SIGTERM);  // the task stays unanswered: the run ends interrupted, with its summary
  EXPECT_NE(strict->wait_for(30s), 0) << strict->output();
  EXPECT_NE(strict->output().find("1 unsigned or forged results dropped"), std::string::npos)
      << strict->output() << "\nagent:\n" << agent_->output();
  EXPECT_TRUE(results_in(strict->output()).empty()) << strict->output();
  EXPECT_EQ(strict->output().find(kNewKey), std::string::npos) << "the submitter logged its key";
}

// Given a signed `tasker submit --wait` whose results queue also receives forged results (one
// unsigned, one signed with another key) for its task ids before any agent runs, the master should
// drop and count the forged ones and reduce the agent's genuine, signed results.
TEST_P(SigningIntegrationTest, ForgedResultsAreDroppedAndOnlyTheAgentsAreReduced) {
  const fs::path input = dir_ / "tasks.jsonl";
  std::ofstream(input) << task("one", "echo 1") << "\n" << task("two", "echo 2") << "\n";
  auto submit = submit_wait(input, env_with_key(), 120, "submit.log");
  ASSERT_TRUE(testing::eventually([&] { return tasks_->depth()->visible == 2; }, 60s)) << submit->output();
  auto other = SigningKey::from_text("a forger's key, sixteen bytes or more");
  ASSERT_TRUE(other.ok());
  for (const char* id : {"one", "two"}) {
    const std::string forged = to_json(TaskResult::success(id, "forged"));
    auto sent = results_->send({OutgoingMessage(forged), other->signed_message(forged)});
    ASSERT_TRUE(sent.ok()) << sent.error().message;
  }
  start_agent();
  ASSERT_EQ(submit->wait_for(150s), 0) << submit->output() << "\nagent:\n" << agent_->output();
  auto got = results_in(submit->output());
  ASSERT_EQ(got.size(), 2u) << submit->output();
  EXPECT_EQ(got["one"].size(), 1u);
  EXPECT_EQ(got["one"][0].payload, "1") << submit->output();
  EXPECT_EQ(got["two"][0].payload, "2") << submit->output();
  EXPECT_NE(submit->output().find("4 unsigned or forged results dropped"), std::string::npos)
      << submit->output();
}

// Given tasks sent straight to the queue unsigned or signed with another key, the agent answers
// each "unauthenticated" without creating a container, and keeps running signed tasks after.
TEST_P(SigningIntegrationTest, ForgedTasksAreRefusedAndNoContainerIsCreated) {
  start_agent();
  send({OutgoingMessage(task("unsigned", "echo pwned")),
        key_of(kOtherKey).signed_message(task("foreign", "echo pwned"))});
  auto refused = collect(2, 60s);
  ASSERT_EQ(refused.size(), 2u) << agent_->output();
  ASSERT_EQ(refused["unsigned"].size(), 1u);
  EXPECT_EQ(refused["unsigned"][0].error, "unauthenticated");
  EXPECT_EQ(refused["unsigned"][0].payload,
            "task not run: missing signature (a signing key is set, so messages must be signed)");
  ASSERT_EQ(refused["foreign"].size(), 1u);
  EXPECT_EQ(refused["foreign"][0].error, "unauthenticated");
  EXPECT_EQ(refused["foreign"][0].payload, "task not run: signature does not match the body");
  EXPECT_FALSE(refused["foreign"][0].is_success);

  send({key_of(kKey).signed_message(task("genuine", "echo ran"))});
  auto ran = collect(1, 60s);
  ASSERT_EQ(ran["genuine"].size(), 1u) << agent_->output();
  EXPECT_TRUE(ran["genuine"][0].is_success) << ran["genuine"][0].payload;
  EXPECT_EQ(ran["genuine"][0].payload, "ran");

  const std::string created = testing::created_task_ids(agent_name_, started_);
  EXPECT_EQ(created.find("unsigned"), std::string::npos) << created;
  EXPECT_EQ(created.find("foreign"), std::string::npos) << created;
  EXPECT_NE(created.find("genuine"), std::string::npos) << "docker events shows no container: " << created;
  auto depth = tasks_->depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->visible + depth->in_flight, 0) << "a refused task was left in the queue";
}

// Given a genuinely signed task taken off the queue, its body altered (another command) and sent
// again with the original signature, the agent refuses it. The unaltered copy sent again runs:
// a signature proves who wrote a body, not that it is sent only once (replays are not detected).
TEST_P(SigningIntegrationTest, ReplayedAndAlteredTaskIsRefused) {
  submit_signed({echo_task("replayed", "genuine")}, key_of(kKey));
  auto taken = tasks_->receive(1, 5s);
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  ASSERT_EQ(taken->size(), 1u);
  const Message original = taken->front();
  ASSERT_EQ(original.attributes.count(kSignatureAttribute), 1u);
  ASSERT_TRUE(tasks_->ack({original.receipt}).ok());

  std::string altered = original.body;
  const auto at = altered.find("genuine");
  ASSERT_NE(at, std::string::npos) << altered;
  altered.replace(at, 7, "altered");
  send({OutgoingMessage(altered, original.attributes)});
  start_agent();
  auto refused = collect(1, 60s);
  ASSERT_EQ(refused["replayed"].size(), 1u) << agent_->output();
  EXPECT_EQ(refused["replayed"][0].error, "unauthenticated");
  EXPECT_EQ(refused["replayed"][0].payload, "task not run: signature does not match the body");

  send({OutgoingMessage(original.body, original.attributes)});
  auto replayed = collect(1, 60s);
  ASSERT_EQ(replayed["replayed"].size(), 1u) << agent_->output();
  EXPECT_TRUE(replayed["replayed"][0].is_success);
  EXPECT_EQ(replayed["replayed"][0].payload, "genuine");
  EXPECT_EQ(testing::created_task_ids(agent_name_, started_), "replayed\n")
      << "only the unaltered task may reach the daemon";
}

INSTANTIATE_TEST_SUITE_P(Backends, SigningIntegrationTest,
                         ::testing::Values(Backend{"sqlite"}, Backend{"moto"}),
                         [](const auto& info) { return info.param.name; });

// Interop with an independent signer: Python's hmac and boto3 on moto.
class SigningInteropTest : public SigningIntegrationTest {};

std::string interop(const std::string& command, const std::string& endpoint,
                    const std::string& queue, const fs::path& file) {
  const std::string line = std::string("LC_ALL=C.UTF-8 AWS_ACCESS_KEY_ID=testing ") +
                           "AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 " +
                           "TASKER_SIGNING_KEY='" + kKey + "' python3 " + kInteropScript + " " +
                           command + " " + endpoint + " " + queue + " '" + file.string() + "' 2>&1";
  auto result = testing::run_command(line);
  return result.status == 0 ? "" : "exit " + std::to_string(result.status) + ": " + result.output;
}

// Given a task signed by boto3 with Python's hmac, the agent runs it.
TEST_P(SigningInteropTest, TaskSignedByAnIndependentClientRuns) {
  start_agent();
  const fs::path body = dir_ / "task.json";
  std::ofstream(body, std::ios::binary) << task("from-python", "echo accepted");
  ASSERT_EQ(interop("send-signed", endpoint_, tasks_name_, body), "");
  auto got = collect(1, 60s);
  ASSERT_EQ(got["from-python"].size(), 1u) << agent_->output();
  EXPECT_TRUE(got["from-python"][0].is_success) << got["from-python"][0].payload;
  EXPECT_EQ(got["from-python"][0].payload, "accepted");
}

// Given a task the master signed, Python's hmac verifies its signature over the body boto3 reads.
TEST_P(SigningInteropTest, MasterSignatureVerifiesInAnIndependentClient) {
  submit_signed({echo_task("verify-me", "x")}, key_of(kKey));
  const fs::path body = dir_ / "received.json";
  ASSERT_EQ(interop("receive-verified", endpoint_, tasks_name_, body), "");
  auto task = parse_task(read_file(body));
  ASSERT_TRUE(task.ok()) << read_file(body);
  EXPECT_EQ(task->id, "verify-me");
}

INSTANTIATE_TEST_SUITE_P(Moto, SigningInteropTest, ::testing::Values(Backend{"moto"}),
                         [](const auto& info) { return info.param.name; });

// Given a key, `tasker run` signs its tasks and its in-process agent, holding the same key, runs
// them.
TEST(SigningEmbeddedTest, RunWithAKeyRunsItsTasks) {
  TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
  TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
  const fs::path dir = fs::temp_directory_path() / ("tasker-signing-run-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "tasks.jsonl") << testing::task_json("a", image, "echo 1") << "\n"
                                     << testing::task_json("b", image, "echo 2") << "\n";
  ChildProcess run({TASKER_BINARY, "run", "--state-dir", (dir / "state").string(), "--progress",
                    "none", (dir / "tasks.jsonl").string()},
                   {{"TASKER_SIGNING_KEY", kKey}}, (dir / "run.log").string());
  EXPECT_EQ(run.wait_for(120s), 0) << run.output();
  std::map<std::string, std::string> payloads;
  std::istringstream lines(run.output());
  for (std::string line; std::getline(lines, line);) {
    if (auto result = parse_result(line); result.ok() && result->is_success) payloads[result->id] = result->payload;
  }
  EXPECT_EQ(payloads, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}})) << run.output();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// Given a key shorter than 16 bytes, `tasker agent` stops at once with one line that names the
// variable and not the key.
TEST(SigningCliTest, ShortKeyIsAOneLineStartupErrorNamingTheVariable) {
  const fs::path log = fs::temp_directory_path() / ("tasker-signing-cli-" + std::to_string(::getpid()));
  ChildProcess agent({TASKER_BINARY, "agent", "--broker", "sqlite:" + (log.string() + ".db"),
                      "--tasks", "t", "--results", "r"},
                     {{"TASKER_SIGNING_KEY", "hunter2-secret"}}, log.string());
  EXPECT_EQ(agent.wait_for(30s), 2);
  const std::string output = agent.output();
  EXPECT_NE(output.find("TASKER_SIGNING_KEY"), std::string::npos) << output;
  EXPECT_EQ(output.find("hunter2-secret"), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
  std::error_code ec;
  fs::remove(log, ec);
  fs::remove(log.string() + ".db", ec);
}

}  // namespace
}  // namespace tasker
