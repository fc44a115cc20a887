#pragma once

#include <string>

#include "docker/docker_client.h"

namespace tasker::docker {

/// Removes the containers an earlier, killed run of agent `agent` left on the daemon (a SIGKILLed
/// agent cannot remove its own); their tasks went back to the queue with the visibility timeout.
/// Returns how many were removed; failures are logged, never fatal.
std::size_t remove_containers_of_earlier_run(DockerClient& client, const std::string& agent);

}  // namespace tasker::docker
