#include "testing/docker_events.h"

#include "testing/process.h"

namespace tasker::testing {

std::string created_task_ids(const std::string& agent_name, std::time_t since) {
  const std::string command =
      "docker events --since " + std::to_string(since) + " --until " +
      std::to_string(std::time(nullptr) + 1) +
      " --filter type=container --filter event=create --filter label=tasker.agent=" + agent_name +
      " --format '{{index .Actor.Attributes \"tasker.task-id\"}}' 2>&1";
  return run_command(command).output;
}

}  // namespace tasker::testing
