#pragma once

// Shared set-up of the Docker integration suites: a client for the harness's daemon, tasks on
// the test image, and a check that a test left no container behind.

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "docker/docker_client.h"
#include "docker/docker_runtime.h"
#include "testing/services.h"

namespace tasker::testing {

/// A task on `image` running `argv`, with network `none` (the test daemon has no bridge).
inline Task docker_task(const std::string& id, const std::string& image,
                        std::vector<std::string> argv) {
  Task task;
  task.id = id;
  task.image = image;
  task.argv = std::move(argv);
  task.network = "none";
  return task;
}

/// This test's agent name: containers are labelled with it, so a test can check it left none.
inline std::string test_agent_name() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return "docker-test-" + std::to_string(getpid()) + "-" + info->name();
}

/// Containers labelled with `agent` that still exist on the daemon.
inline std::vector<docker::ContainerSummary> containers_of(docker::DockerClient& client,
                                                           const std::string& agent) {
  auto containers = client.list_containers(std::string(docker::kAgentLabel) + "=" + agent);
  EXPECT_TRUE(containers) << containers.error().message;
  return containers ? *containers : std::vector<docker::ContainerSummary>{};
}

}  // namespace tasker::testing
