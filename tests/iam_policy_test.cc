// The least-privilege IAM policies of the README's Security section, enforced for real: a private
// moto_server that checks SigV4 and IAM policies, an agent and a master each holding only its own
// policy, a job through them on the harness's Docker daemon; then what each key must not do.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <fstream>
#include <map>
#include <sstream>

#include "docker/docker_client.h"
#include "docker/leftover_containers.h"
#include "tasker/result.h"
#include "testing/process.h"
#include "testing/services.h"
#include "tests/sqs_test_support.h"

namespace tasker::testing {
namespace {

using namespace std::chrono_literals;

/// The JSON block that follows `<!-- iam-policy: NAME ...-->` in the README.
std::string readme_policy(const std::string& name) {
  std::ifstream in(TASKER_SOURCE_DIR "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const auto marker = readme.find("<!-- iam-policy: " + name + " ");
  if (marker == std::string::npos) return "";
  const auto open = readme.find("```json\n", marker);
  if (open == std::string::npos) return "";
  const auto begin = open + 8;
  const auto close = readme.find("```", begin);
  return close == std::string::npos ? "" : readme.substr(begin, close - begin);
}

/// Whether `text` says access was denied, in any case ("AccessDenied", "access denied").
bool says_denied(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text.find("denied") != std::string::npos;
}

class IamPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    TASKER_REQUIRE_ENV(shared_moto, "TASKER_TEST_SQS_ENDPOINT");  // moto_server is installed
    image_ = image;
    for (const std::string name : {"agent", "master"}) {
      const std::string policy = readme_policy(name);
      ASSERT_FALSE(policy.empty()) << "README.md has no JSON block after <!-- iam-policy: " << name << " ...-->";
      std::ofstream(dir_.file(name + ".json")) << policy;
    }
    // Unauthenticated set-up: two CreateQueue, then CreateUser, PutUserPolicy and CreateAccessKey
    // for each of the two users. Every later action is checked against the users' policies.
    moto_ = std::make_unique<PrivateMoto>(8);
    ASSERT_TRUE(moto_->ready()) << "moto_server did not start";
    const auto keys = run_command("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing python3 " +
                                  std::string(kInteropScript) + " least-privilege " + moto_->endpoint() +
                                  " eu-west-1 " + dir_.file("agent.json") + " " + dir_.file("master.json") +
                                  " 2>&1");
    ASSERT_EQ(keys.status, 0) << keys.output;
    std::istringstream words(keys.output);
    std::string agent_key, agent_secret, master_key, master_secret;
    words >> agent_key >> agent_secret >> master_key >> master_secret;
    ASSERT_FALSE(master_secret.empty()) << keys.output;
    agent_env_ = environment(agent_key, agent_secret);
    master_env_ = environment(master_key, master_secret);
  }

  void TearDown() override {
    if (agent_) {
      agent_->signal(SIGTERM);
      agent_->wait_for(30s);
    }
    if (auto endpoint = docker::endpoint_from_environment(); endpoint && agent_) {
      docker::DockerClient client(*endpoint);
      docker::remove_containers_of_earlier_run(client, agent_name_);
    }
  }

  std::map<std::string, std::string> environment(const std::string& key, const std::string& secret) const {
    return {{"AWS_ENDPOINT_URL", moto_->endpoint()}, {"AWS_REGION", "eu-west-1"},
            {"AWS_ACCESS_KEY_ID", key},             {"AWS_SECRET_ACCESS_KEY", secret},
            {"AWS_SESSION_TOKEN", ""},              {"TASKER_BROKER", "sqs://"}};
  }

  /// Runs `tasker ARGS...` to completion with `env`; its exit status and output.
  CommandResult tasker(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                       const std::string& log) {
    std::vector<std::string> argv = {TASKER_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess process(argv, env, dir_.file(log));
    const auto status = process.wait_for(120s);
    return {status.value_or(-1), process.output()};
  }

  std::string image_;
  TempDir dir_;
  std::unique_ptr<PrivateMoto> moto_;
  std::map<std::string, std::string> agent_env_, master_env_;
  std::string agent_name_ = "iam-agent-" + std::to_string(::getpid());
  std::unique_ptr<ChildProcess> agent_;
};

TEST_F(IamPolicyTest, AgentAndMasterRunAJobWithTheirPoliciesAndNothingMore) {
  agent_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{TASKER_BINARY, "agent", "--tasks", "tasks", "--results", "results", "--name",
                               agent_name_, "--poll-wait", "1", "--network", "none", "--slots", "2"},
      agent_env_, dir_.file("agent.log"));
  {
    std::ofstream tasks(dir_.file("tasks.jsonl"));
    for (int n = 1; n <= 5; ++n) {
      tasks << R"({"id":"t)" << n << R"(","image":")" << image_ << R"(","arguments":"echo )" << n << "\"}\n";
    }
  }

  // Given only its policy, the master sends the tasks and reduces every result once.
  const auto job = tasker({"submit", dir_.file("tasks.jsonl"), "--wait", "--tasks", "tasks", "--results",
                           "results", "--progress", "none", "--timeout", "100"},
                          master_env_, "submit.log");
  ASSERT_EQ(job.status, 0) << job.output << "\nagent:\n" << agent_->output();
  std::map<std::string, int> seen;
  long sum = 0;
  std::istringstream lines(job.output);
  for (std::string line; std::getline(lines, line);) {
    auto result = parse_result(line);
    if (!result.ok()) continue;
    ++seen[result->id];
    EXPECT_TRUE(result->is_success) << line;
    sum += std::stol(result->payload);
  }
  EXPECT_EQ(seen.size(), 5u) << job.output;
  for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(sum, 15);
  EXPECT_FALSE(says_denied(agent_->output()))
      << "the agent was refused something its policy should allow:\n" << agent_->output();

  // Then each key is refused, with a clear error, what its role does not need.
  const auto agent_sends_tasks = tasker({"submit", dir_.file("tasks.jsonl"), "--tasks", "tasks"}, agent_env_,
                                        "agent-submit.log");
  EXPECT_NE(agent_sends_tasks.status, 0) << agent_sends_tasks.output;
  EXPECT_TRUE(says_denied(agent_sends_tasks.output)) << agent_sends_tasks.output;
  for (const auto& [env, queue] : {std::pair{&agent_env_, "tasks"}, std::pair{&master_env_, "results"}}) {
    const auto purge = tasker({"queue", "purge", queue}, *env, std::string("purge-") + queue + ".log");
    EXPECT_NE(purge.status, 0) << purge.output;
    EXPECT_TRUE(says_denied(purge.output)) << purge.output;
  }
  const auto master_creates = tasker({"queue", "create", "more-tasks"}, master_env_, "create.log");
  EXPECT_NE(master_creates.status, 0) << master_creates.output;
}

}  // namespace
}  // namespace tasker::testing
