#pragma once

// Helpers shared by the integration tests that run `tasker agent` processes against a real
// queue: where the queues live, what a task looks like, and how results are gathered.

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tasker/queue.h"
#include "tasker/result.h"

namespace tasker::testing {

/// A broker for an agent test: its address and the environment the processes using it need.
struct TestBroker {
  std::string address;
  std::map<std::string, std::string> env;
};

/// "sqlite": a queue file in `dir`. "moto": SQS at `sqs_endpoint` (the harness's moto) with
/// dummy credentials, which are also set in this process's environment for its own broker.
TestBroker test_broker(const std::string& backend, const std::filesystem::path& dir,
                       const std::string& sqs_endpoint);

/// A task JSON body on `image` running `command`; `extra` is more fields, starting with a comma.
std::string task_json(const std::string& id, const std::string& image, const std::string& command,
                      const std::string& extra = "");

/// Receives (and acks) results from `results` until `count` distinct task ids have one or
/// `timeout` passes; every delivery is kept, so a task answered twice shows up as 2.
std::map<std::string, std::vector<TaskResult>> collect_results(Queue& results, std::size_t count,
                                                               std::chrono::seconds timeout);

}  // namespace tasker::testing
