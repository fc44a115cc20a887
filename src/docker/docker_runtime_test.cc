#include "docker/docker_runtime.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tasker::docker
