#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "docker/registry_auth.h"
#include "docker_test_support.h"
#include "testing/process.h"

namespace tasker::docker {
namespace {

using tasker::testing::containers_of;
using tasker::testing::docker_task;

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// `text` as one single-quoted shell word.
std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Runs the docker CLI on the harness's daemon (DOCKER_HOST) with `arguments`, feeding `input` on
// standard input; fails with the CLI's output, which never holds `input`.
::testing::AssertionResult docker_cli(const std::string& arguments, const std::string& input = "") {
  const auto run = tasker::testing::run_command("printf '%s' " + shell_quoted(input) +
                                                " | docker " + arguments + " 2>&1");
  if (run.status == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "docker " << arguments << " exited " << run.status << ": " << run.output;
}

// Pulls from the harness's registry (docker-registry with htpasswd auth on 127.0.0.1), into
// which the suite first pushes the test image.
class RegistryPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    TASKER_REQUIRE_ENV(registry, "TASKER_TEST_REGISTRY");
    TASKER_REQUIRE_ENV(user, "TASKER_TEST_REGISTRY_USER");
    TASKER_REQUIRE_ENV(password, "TASKER_TEST_REGISTRY_PASSWORD");
    registry_ = registry;
    user_ = user;
    password_ = password;
    client_ = std::make_unique<DockerClient>(*parse_docker_host(docker_host));
    agent_ = tasker::testing::test_agent_name();
    pushed_ = registry_ + "/tasker/busybox:pulltest";

    config_dir_ = std::filesystem::temp_directory_path() / ("tasker-docker-config-" + agent_);
    std::filesystem::create_directories(config_dir_);

    // Put the test image in the registry with the docker CLI (logged in with a config of its
    // own), then drop the local copy so a run must pull it.
    const std::string cli_config = "--config " + shell_quoted((config_dir_ / "cli").string());
    ASSERT_TRUE(docker_cli("tag " + shell_quoted(image) + " " + shell_quoted(pushed_)));
    ASSERT_TRUE(docker_cli(cli_config + " login --username " + shell_quoted(user_) +
                               " --password-stdin " + shell_quoted(registry_),
                           password_));
    ASSERT_TRUE(docker_cli(cli_config + " push " + shell_quoted(pushed_)));
    ASSERT_TRUE(docker_cli("rmi --force " + shell_quoted(pushed_)));
    ASSERT_FALSE(*client_->image_exists(pushed_));
  }

  void TearDown() override {
    if (!client_) return;
    EXPECT_TRUE(containers_of(*client_, agent_).empty()) << "containers left by " << agent_;
    (void)docker_cli("rmi --force " + shell_quoted(pushed_));
    std::filesystem::remove_all(config_dir_);
  }

  // A Docker config whose `auths` holds these credentials for the test registry.
  std::string write_config(const std::string& user, const std::string& password) {
    const std::string path = (config_dir_ / "config.json").string();
    std::ofstream(path) << R"({"auths": {"http://)" << registry_ << R"(": {"auth": ")"
                        << base64(user + ":" + password) << R"("}}})";
    return path;
  }

  TaskResult run(DockerRuntime& runtime, const std::string& image, const std::string& word) {
    return runtime.run(docker_task(word, image, {"echo", word}), RunContext{agent_, 1}, {}).result;
  }

  std::string registry_, user_, password_, pushed_, agent_;
  std::filesystem::path config_dir_;
  std::unique_ptr<DockerClient> client_;
};

// Given the right credentials in the Docker config, a missing image should be pulled and run.
TEST_F(RegistryPullTest, RightCredentialsPull) {
  DockerRuntimeOptions options;
  options.docker_config = write_config(user_, password_);
  DockerRuntime runtime(*client_, options);
  const auto result = run(runtime, pushed_, "pulled");
  EXPECT_TRUE(result.is_success) << result.payload;
  EXPECT_EQ(result.payload, "pulled");
  EXPECT_EQ(runtime.pulls_started(), 1u);
  EXPECT_TRUE(*client_->image_exists(pushed_));
}

// Given DOCKER_CONFIG naming the config directory, the runtime should find the credentials.
TEST_F(RegistryPullTest, DockerConfigVariableIsHonoured) {
  write_config(user_, password_);
  setenv("DOCKER_CONFIG", config_dir_.c_str(), 1);
  DockerRuntime runtime(*client_);
  const auto result = run(runtime, pushed_, "via-env");
  unsetenv("DOCKER_CONFIG");
  EXPECT_TRUE(result.is_success) << result.payload;
}

// Given several tasks needing the same missing image at once, there should be one pull.
TEST_F(RegistryPullTest, ConcurrentTasksShareOnePull) {
  DockerRuntimeOptions options;
  options.docker_config = write_config(user_, password_);
  DockerRuntime runtime(*client_, options);
  std::vector<TaskResult> results(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = run(runtime, pushed_, "shared-" + std::to_string(i)); });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(results[i].is_success) << results[i].payload;
    EXPECT_EQ(results[i].payload, "shared-" + std::to_string(i));
  }
  EXPECT_EQ(runtime.pulls_started(), 1u);
}

// Given a wrong password, the task should fail with a pull-denied reason naming what to fix.
TEST_F(RegistryPullTest, WrongCredentialsGiveClearError) {
  DockerRuntimeOptions options;
  options.docker_config = write_config(user_, "not-the-password");
  DockerRuntime runtime(*client_, options);
  const auto result = run(runtime, pushed_, "never");
  EXPECT_FALSE(result.is_success);
  EXPECT_EQ(result.error, "pull");
  EXPECT_EQ(result.payload.rfind("pull denied for " + pushed_ + ": ", 0), 0u) << result.payload;
  EXPECT_NE(result.payload.find("unauthorized"), std::string::npos) << result.payload;
  EXPECT_NE(result.payload.find("check the credentials for " + registry_ + " in " +
                                options.docker_config),
            std::string::npos)
      << result.payload;
  EXPECT_EQ(result.payload.find('\n'), std::string::npos);
}

// Given no credentials at all for an authenticated registry, the pull should be denied too.
TEST_F(RegistryPullTest, NoCredentialsAreDenied) {
  DockerRuntimeOptions options;
  options.docker_config = (config_dir_ / "absent.json").string();
  DockerRuntime runtime(*client_, options);
  const auto result = run(runtime, pushed_, "never");
  EXPECT_EQ(result.error, "pull");
  EXPECT_EQ(result.payload.rfind("pull denied for " + pushed_ + ": ", 0), 0u) << result.payload;
}

// Given an image the registry does not have, the task should fail as image not found.
TEST_F(RegistryPullTest, UnknownImageIsNotFound) {
  DockerRuntimeOptions options;
  options.docker_config = write_config(user_, password_);
  DockerRuntime runtime(*client_, options);
  const std::string missing = registry_ + "/tasker/no-such-image:1";
  const auto result = run(runtime, missing, "never");
  EXPECT_FALSE(result.is_success);
  EXPECT_EQ(result.error, "image");
  EXPECT_EQ(result.payload, "image not found: " + missing);
}

// Registered last of the Docker suites (test files link in name order, registry_ after docker_
// and agent_): given every test before it has finished, no container labelled as tasker's is
// left on the daemon.
TEST(DockerSuiteEndTest, NoTaskerContainerIsLeft) {
  TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
  DockerClient client(*parse_docker_host(docker_host));
  // A removal queued by a test that just ended may still be in flight: allow it a moment.
  std::vector<ContainerSummary> left;
  for (int look = 0; look < 20; ++look) {
    auto containers = client.list_containers(std::string(kTaskerLabel));
    ASSERT_TRUE(containers) << containers.error().message;
    left = *containers;
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  for (const auto& container : left) {
    ADD_FAILURE() << "left behind: container " << container.id.substr(0, 12) << " of task "
                  << container.task_id << " of agent " << container.agent << " (" << container.state
                  << ")";
  }
}

}  // namespace
}  // namespace tasker::docker
