#include "docker/leftover_containers.h"

#include "docker/docker_runtime.h"
#include "util/log.h"

namespace tasker::docker {

std::size_t remove_containers_of_earlier_run(DockerClient& client, const std::string& agent) {
  auto left = client.list_containers(std::string(kAgentLabel) + "=" + agent);
  if (!left) {
    log::warn("could not look for containers of an earlier run of agent {}: {}", agent, left.error().message);
    return 0;
  }
  std::size_t removed = 0;
  for (const auto& container : *left) {
    if (auto status = client.remove_container(container.id); status) {
      ++removed;
    } else {
      log::warn("could not remove container {} of an earlier run: {}", container.id, status.error().message);
    }
  }
  if (removed > 0) log::info("removed {} container(s) left by an earlier run of agent {}", removed, agent);
  return removed;
}

}  // namespace tasker::docker
