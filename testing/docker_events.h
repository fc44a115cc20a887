#pragma once

#include <ctime>
#include <string>

namespace tasker::testing {

/// The task ids (label `tasker.task-id`) of the containers the Docker daemon created for the
/// agent named `agent_name` since `since`, one a line, from `docker events`: proof that a
/// refused task never reached the daemon.
std::string created_task_ids(const std::string& agent_name, std::time_t since);

}  // namespace tasker::testing
