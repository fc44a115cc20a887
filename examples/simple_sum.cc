// SimpleSum, docker-tasker's seed example in C++: ten tasks `sh -c 'sleep 1; echo N'`, reduce
// sums their payloads, termination prints the sum (55).
//
// Embedded (default): an SQLite queue in ./.tasker-simplesum and an in-process agent on the local
// Docker daemon. Distributed: with Q_TASK and Q_RESULTS set (and the AWS variables), tasks go to
// SQS and agents anywhere answer them, as in docker-tasker.
//
// SIMPLESUM_IMAGE picks the image (default busybox).
#include <cstdlib>
#include <iostream>
#include <string>

#include "tasker/embedded.h"
#include "tasker/master.h"

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

int main() {
  const std::string image = env_or("SIMPLESUM_IMAGE", "busybox");

  tasker::Job<long> job;
  job.supply = [n = 0, image]() mutable -> std::optional<tasker::Expected<tasker::Task>> {
    if (n == 10) return std::nullopt;
    ++n;
    tasker::Task task;
    task.id = "simplesum-" + std::to_string(n);
    task.image = image;
    task.command_line = "sh -c 'sleep 1; echo " + std::to_string(n) + "'";
    task.argv = tasker::split_arguments(*task.command_line).value();
    task.network = "none";  // the tasks need no network
    return tasker::Expected<tasker::Task>(std::move(task));
  };
  job.reduce = [](const tasker::TaskResult& result, long& sum) {
    if (!result.is_success) {
      std::cerr << "task " << result.id << " failed: " << result.payload << "\n";
      return;
    }
    sum += std::stol(result.payload);
  };
  job.termination = [](long& sum) { std::cout << sum << std::endl; };

  tasker::Expected<tasker::RunReport> report = tasker::Error::internal("not run");
  if (std::getenv("Q_TASK") != nullptr) {
    auto address = tasker::parse_broker_address(env_or("TASKER_BROKER", "sqs://"));
    if (!address) {
      std::cerr << address.error().message << "\n";
      return 2;
    }
    auto broker = tasker::open_broker(*address);
    if (!broker) {
      std::cerr << broker.error().message << "\n";
      return 2;
    }
    tasker::MasterOptions options;
    options.tasks_queue = env_or("Q_TASK", "");
    options.results_queue = env_or("Q_RESULTS", "");
    tasker::Master master(**broker, options);
    report = tasker::run_job(master, job);
  } else {
    tasker::EmbeddedOptions options;
    options.state_dir = env_or("SIMPLESUM_STATE_DIR", ".tasker-simplesum");
    options.slots = 4;
    report = tasker::run_embedded(
        job.supply, [&job](const tasker::TaskResult& r) { job.reduce(r, job.accumulator); }, options);
    if (report) job.termination(job.accumulator);
  }
  if (!report) {
    std::cerr << "simple_sum: " << report.error().message << "\n";
    return 2;
  }
  return report->failed == 0 ? 0 : 1;
}
