#include "tasker/embedded.h"

#include <filesystem>
#include <thread>

#include "docker/docker_client.h"
#include "docker/docker_runtime.h"
#include "docker/leftover_containers.h"
#include "tasker/agent.h"
#include "util/log.h"

namespace tasker {
namespace {

constexpr const char* kTasksQueue = "tasks";
constexpr const char* kResultsQueue = "results";

}  // namespace

Expected<RunReport> run_embedded(const Supply& supply, const ResultHandler& on_result,
                                 const EmbeddedOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec) return Error::invalid("state directory " + options.state_dir + ": " + ec.message());

  auto endpoint = docker::endpoint_from_environment();
  if (!endpoint) return endpoint.error();
  docker::DockerClient client(*endpoint);
  docker::DockerRuntimeOptions runtime_options;
  runtime_options.limits = container_limits(options.policy, options.cap_cpus);
  docker::DockerRuntime runtime(client, runtime_options);
  if (auto ready = runtime.check_ready(); !ready) {
    return Error::unavailable(ready.error().message +
                              " (start Docker, or point DOCKER_HOST at a running daemon)");
  }
  // The agent is named after the state directory, so a resumed run finds what a killed one left.
  const std::string agent_name = "embedded-" + std::to_string(std::hash<std::string>{}(
                                                    fs::absolute(options.state_dir).string()) % 1000000);
  docker::remove_containers_of_earlier_run(client, agent_name);

  BrokerAddress address;
  address.kind = BrokerAddress::Kind::kSqlite;
  address.sqlite_path = (fs::path(options.state_dir) / "queue.db").string();
  auto broker = open_broker(address);
  if (!broker) return broker.error();
  QueueOptions queue_options;
  // Short, because the heartbeat keeps running tasks hidden: tasks of a killed run come back
  // this soon after it is resumed.
  queue_options.visibility_timeout = std::chrono::seconds(10);
  for (const char* name : {kTasksQueue, kResultsQueue}) {
    TASKER_TRY((*broker)->create_queue(name, queue_options));
  }

  const fs::path journal = fs::path(options.state_dir) / "run.journal";
  if (options.fresh || !fs::exists(journal)) {
    // A new run: nothing of an earlier one may leak into it.
    fs::remove(journal, ec);
    TASKER_TRY((*broker)->purge_queue(kTasksQueue));
    TASKER_TRY((*broker)->purge_queue(kResultsQueue));
  }

  AgentOptions agent_options;
  agent_options.name = agent_name;
  agent_options.slots = options.slots > 0 ? options.slots : std::max(1u, std::thread::hardware_concurrency());
  agent_options.results_queue = kResultsQueue;
  agent_options.visibility = queue_options.visibility_timeout;
  agent_options.poll_wait = std::chrono::milliseconds(1000);
  agent_options.grace = std::chrono::seconds(0);
  agent_options.policy = options.policy;
  agent_options.signing_key = options.signing_key;
  auto tasks = (*broker)->open_queue(kTasksQueue);
  if (!tasks) return tasks.error();
  Agent agent(**broker, std::move(*tasks), runtime, agent_options);

  MasterOptions master_options;
  master_options.tasks_queue = kTasksQueue;
  master_options.results_queue = kResultsQueue;
  master_options.state_file = journal.string();
  master_options.progress = options.progress;
  master_options.timeout = options.timeout;
  master_options.poll_wait = std::chrono::milliseconds(500);
  master_options.interrupt = options.interrupt;
  master_options.signing_key = options.signing_key;
  Master master(**broker, master_options);
  Status agent_status;
  std::thread agent_thread([&] {
    agent_status = agent.run();
    // The agent stops by itself only when it cannot go on (a full disk): so does the run.
    if (!agent_status) master.request_stop();
  });
  auto report = master.run(supply, on_result);
  // The master is done (or interrupted): with no grace, the agent kills what still runs and hands
  // it back for a resume.
  agent.request_stop();
  agent_thread.join();
  runtime.flush_removals();
  // Once more at the end: a container a killed run was creating when it died can appear on a
  // loaded daemon after the start-up sweep. Nothing of this agent runs any more.
  docker::remove_containers_of_earlier_run(client, agent_name);
  if (!agent_status) {
    // Say why the run stopped rather than that it was interrupted; the journal stays for a resume.
    if (report && report->interrupted) return agent_status.error();
    log::error("embedded agent: {}", agent_status.error().message);
  }

  if (report && !report->timed_out && !report->interrupted) {
    // Complete: keep the journal under the run's id, so the next run starts fresh.
    fs::rename(journal, fs::path(options.state_dir) / ("run-" + report->run_id + ".journal"), ec);
  }
  return report;
}

}  // namespace tasker
