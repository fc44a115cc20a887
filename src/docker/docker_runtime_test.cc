#include "docker/docker_runtime.h"

#include <gtest/gtest.h>

#include "tasker/policy.h"

namespace tasker::docker {
namespace {

// Given a task with every optional setting, the container should carry each one and the labels.
TEST(ContainerConfigTest, CarriesTaskSettingsAndLabels) {
  Task task;
  task.id = "t-1";
  task.image = "busybox";
  task.argv = {"sh", "-c", "echo 1"};
  task.env = {{"A", "1"}};
  task.workdir = "/tmp";
  task.user = "65534";
  task.entrypoint = std::vector<std::string>{};
  task.memory_bytes = 64 << 20;
  task.cpus = 0.5;
  task.network = "none";
  task.run_id = "run-9";
  const auto config = container_config(task, RunContext{"agent-a", 2}, {});
  EXPECT_EQ(config["Cmd"], nlohmann::json({"sh", "-c", "echo 1"}));
  EXPECT_EQ(config["Entrypoint"], nlohmann::json({""}));
  EXPECT_EQ(config["Env"], nlohmann::json({"A=1"}));
  EXPECT_EQ(config["WorkingDir"], "/tmp");
  EXPECT_EQ(config["User"], "65534");
  EXPECT_EQ(config["HostConfig"]["Memory"], 64 << 20);
  EXPECT_EQ(config["HostConfig"]["MemorySwap"], 64 << 20);
  EXPECT_EQ(config["HostConfig"]["NanoCpus"], 500000000);
  EXPECT_EQ(config["HostConfig"]["NetworkMode"], "none");
  EXPECT_EQ(config["HostConfig"]["LogConfig"]["Type"], "none");
  EXPECT_EQ(config["Labels"]["tasker"], "1");
  EXPECT_EQ(config["Labels"]["tasker.task-id"], "t-1");
  EXPECT_EQ(config["Labels"]["tasker.run-id"], "run-9");
  EXPECT_EQ(config["Labels"]["tasker.agent"], "agent-a");
  EXPECT_EQ(config["Tty"], false);
}

// Given a bare task, the image's defaults should stand and the runtime's network apply.
TEST(ContainerConfigTest, BareTaskKeepsImageDefaults) {
  Task task;
  task.id = "t";
  task.image = "busybox";
  DockerRuntimeOptions options;
  options.default_network = "host";
  const auto config = container_config(task, RunContext{}, options);
  EXPECT_FALSE(config.contains("Cmd"));
  EXPECT_FALSE(config.contains("Entrypoint"));
  EXPECT_FALSE(config.contains("Env"));
  EXPECT_FALSE(config["HostConfig"].contains("Memory"));
  EXPECT_EQ(config["HostConfig"]["NetworkMode"], "host");
}

// Given runtime defaults, every container is capped: pids, no-new-privileges, and the memory cap
// for a task that asks none (a task's own request wins).
TEST(ContainerConfigTest, DefaultLimitsApplyToEveryContainer) {
  Task task;
  task.id = "t";
  task.image = "busybox";
  DockerRuntimeOptions options;
  options.limits.memory_bytes = std::int64_t{1} << 30;
  const auto config = container_config(task, RunContext{}, options);
  EXPECT_EQ(config["HostConfig"]["PidsLimit"], 4096);
  EXPECT_EQ(config["HostConfig"]["SecurityOpt"], nlohmann::json({"no-new-privileges"}));
  EXPECT_EQ(config["HostConfig"]["Memory"], std::int64_t{1} << 30);
  EXPECT_EQ(config["HostConfig"]["MemorySwap"], std::int64_t{1} << 30);
  EXPECT_FALSE(config["HostConfig"].contains("NanoCpus"));
  EXPECT_FALSE(config["HostConfig"].contains("Privileged"));
  task.memory_bytes = 64 << 20;
  EXPECT_EQ(container_config(task, RunContext{}, options)["HostConfig"]["Memory"], 64 << 20);
}

TEST(ContainerConfigTest, LimitsComeFromThePolicy) {
  TaskPolicy policy;
  policy.max_memory_bytes = 256 << 20;
  policy.max_cpus = 1.5;
  policy.pids_limit = 64;
  DockerRuntimeOptions options;
  options.limits = container_limits(policy, false);
  Task task;
  task.id = "t";
  task.image = "busybox";
  auto host = container_config(task, RunContext{}, options)["HostConfig"];
  EXPECT_EQ(host["PidsLimit"], 64);
  EXPECT_EQ(host["Memory"], 256 << 20);
  EXPECT_FALSE(host.contains("NanoCpus"));  // The CPU-count default is a cap, not a limit.
  options.limits = container_limits(policy, true);
  host = container_config(task, RunContext{}, options)["HostConfig"];
  EXPECT_EQ(host["NanoCpus"], 1500000000);
  policy.pids_limit.reset();
  options.limits = container_limits(policy, true);
  EXPECT_FALSE(container_config(task, RunContext{}, options)["HostConfig"].contains("PidsLimit"));
}

// Given mounts and privileged, they become bind Mounts (read-only honoured) and Privileged, and a
// privileged container does without no-new-privileges.
TEST(ContainerConfigTest, MountsAndPrivilegedReachTheHostConfig) {
  Task task;
  task.id = "t";
  task.image = "busybox";
  task.mounts = {"/data/in:/in:ro", "/data/out:/out"};
  auto host = container_config(task, RunContext{}, {})["HostConfig"];
  EXPECT_EQ(host["Mounts"], nlohmann::json::parse(R"([
      {"Type":"bind","Source":"/data/in","Target":"/in","ReadOnly":true},
      {"Type":"bind","Source":"/data/out","Target":"/out","ReadOnly":false}])"));
  EXPECT_FALSE(host.contains("Binds"));
  task.privileged = true;
  host = container_config(task, RunContext{}, {})["HostConfig"];
  EXPECT_EQ(host["Privileged"], true);
  EXPECT_FALSE(host.contains("SecurityOpt"));
}

}  // namespace
}  // namespace tasker::docker
