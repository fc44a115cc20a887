#include "tasker/embedded.h"

#include <filesystem>
#include <memory>
#include <thread>

#include "docker/docker_client.h"
#include "docker/docker_runtime.h"
#include "docker/leftover_containers.h"
#include "master/journal.h"
#include "tasker/agent.h"
#include "util/log.h"

namespace tasker {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTasksQueue = "tasks";
constexpr const char* kResultsQueue = "results";
// Short, because the heartbeat keeps running tasks hidden: tasks of a killed run come back this
// soon after it is resumed.
constexpr std::chrono::seconds kVisibility{10};

// One `tasker run`: a state directory holding an SQLite queue and the run's journal, a Docker
// runtime, an agent on its own thread and the master on the caller's. Each step is a member
// function, called in order by run_embedded().
class EmbeddedRun {
 public:
  explicit EmbeddedRun(const EmbeddedOptions& options)
      : options_(options), journal_(fs::path(options.state_dir) / "run.journal") {}

  /// Creates the state directory.
  Status prepare_state_dir();
  /// An interrupted run in the state directory must be of this input: refused before anything
  /// starts, rather than resumed with the wrong tasks.
  Status check_journal() const;
  /// Connects to the local daemon and removes what a killed run of this state directory left.
  Status start_runtime();
  /// Opens the queue database and its two queues; a new run (or --fresh) starts them empty.
  Status open_queues();
  /// Runs the agent beside the master until the master is done, then stops the agent.
  Expected<RunReport> run(const Supply& supply, const ResultHandler& on_result);
  /// Removes leftovers and, for a complete run, keeps its journal under the run's id.
  Expected<RunReport> finish(Expected<RunReport> report, const Status& agent_status);

 private:
  AgentOptions agent_options() const;
  MasterOptions master_options() const;

  const EmbeddedOptions& options_;
  const fs::path journal_;
  std::string agent_name_;
  std::unique_ptr<docker::DockerClient> client_;
  std::unique_ptr<docker::DockerRuntime> runtime_;
  std::unique_ptr<Broker> broker_;
};

Status EmbeddedRun::prepare_state_dir() {
  std::error_code ec;
  fs::create_directories(options_.state_dir, ec);
  if (ec) return Error::invalid("state directory " + options_.state_dir + ": " + ec.message());
  // The agent is named after the state directory, so a resumed run finds what a killed one left.
  agent_name_ = "embedded-" +
                std::to_string(std::hash<std::string>{}(fs::absolute(options_.state_dir).string()) % 1000000);
  return Status::success();
}

Status EmbeddedRun::start_runtime() {
  auto endpoint = docker::endpoint_from_environment();
  if (!endpoint) return endpoint.error();
  client_ = std::make_unique<docker::DockerClient>(*endpoint);
  docker::DockerRuntimeOptions runtime_options;
  runtime_options.limits = container_limits(options_.policy, options_.cap_cpus);
  runtime_ = std::make_unique<docker::DockerRuntime>(*client_, runtime_options);
  if (auto ready = runtime_->check_ready(); !ready) {
    return Error::unavailable(ready.error().message +
                              " (start Docker, or point DOCKER_HOST at a running daemon)");
  }
  docker::remove_containers_of_earlier_run(*client_, agent_name_);
  return Status::success();
}

Status EmbeddedRun::open_queues() {
  BrokerAddress address;
  address.kind = BrokerAddress::Kind::kSqlite;
  address.sqlite_path = (fs::path(options_.state_dir) / "queue.db").string();
  auto broker = open_broker(address);
  if (!broker) return broker.error();
  broker_ = std::move(*broker);
  QueueOptions queue_options;
  queue_options.visibility_timeout = kVisibility;
  for (const char* name : {kTasksQueue, kResultsQueue}) {
    TASKER_TRY(broker_->create_queue(name, queue_options));
  }
  if (options_.fresh || !fs::exists(journal_)) {
    // A new run: nothing of an earlier one may leak into it.
    std::error_code ec;
    fs::remove(journal_, ec);
    TASKER_TRY(broker_->purge_queue(kTasksQueue));
    TASKER_TRY(broker_->purge_queue(kResultsQueue));
  }
  return Status::success();
}

AgentOptions EmbeddedRun::agent_options() const {
  AgentOptions agent;
  agent.name = agent_name_;
  agent.slots = options_.slots > 0 ? options_.slots : std::max(1u, std::thread::hardware_concurrency());
  agent.results_queue = kResultsQueue;
  agent.visibility = kVisibility;
  agent.poll_wait = std::chrono::milliseconds(1000);
  agent.grace = std::chrono::seconds(0);
  agent.policy = options_.policy;
  agent.signing_key = options_.signing_key;
  return agent;
}

Status EmbeddedRun::check_journal() const {
  if (options_.fresh) return Status::success();  // it is discarded
  const MasterOptions master = master_options();
  return Journal::check(journal_.string(), Journal::Identity{master.run_id, master.tasks_queue,
                                                             master.results_queue, master.input,
                                                             master.broker});
}

MasterOptions EmbeddedRun::master_options() const {
  MasterOptions master;
  master.tasks_queue = kTasksQueue;
  master.results_queue = kResultsQueue;
  master.state_file = journal_.string();
  master.input = options_.input;
  master.replay = options_.replay;
  master.progress = options_.progress;
  master.timeout = options_.timeout;
  master.poll_wait = std::chrono::milliseconds(500);
  master.interrupt = options_.interrupt;
  master.signing_key = options_.signing_key;
  return master;
}

Expected<RunReport> EmbeddedRun::run(const Supply& supply, const ResultHandler& on_result) {
  auto tasks = broker_->open_queue(kTasksQueue);
  if (!tasks) return tasks.error();
  Agent agent(*broker_, std::move(*tasks), *runtime_, agent_options());
  Master master(*broker_, master_options());
  Status agent_status;
  std::thread agent_thread([&agent, &master, &agent_status] {
    agent_status = agent.run();
    // The agent stops by itself only when it cannot go on (a full disk): so does the run.
    if (!agent_status) master.request_stop();
  });
  auto report = master.run(supply, on_result);
  // The master is done (or interrupted): with no grace, the agent kills what still runs and hands
  // it back for a resume.
  agent.request_stop();
  agent_thread.join();
  return finish(std::move(report), agent_status);
}

Expected<RunReport> EmbeddedRun::finish(Expected<RunReport> report, const Status& agent_status) {
  runtime_->flush_removals();
  // Once more at the end: a container a killed run was creating when it died can appear on a
  // loaded daemon after the start-up sweep. Nothing of this agent runs any more.
  docker::remove_containers_of_earlier_run(*client_, agent_name_);
  if (!agent_status) {
    // Say why the run stopped rather than that it was interrupted; the journal stays for a resume.
    if (report && report->interrupted) return agent_status.error();
    log::error("embedded agent: {}", agent_status.error().message);
  }
  if (report && !report->timed_out && !report->interrupted) {
    // Complete: keep the journal under the run's id, so the next run starts fresh.
    std::error_code ec;
    fs::rename(journal_, fs::path(options_.state_dir) / ("run-" + report->run_id + ".journal"), ec);
  }
  return report;
}

}  // namespace

Expected<RunReport> run_embedded(const Supply& supply, const ResultHandler& on_result,
                                 const EmbeddedOptions& options) {
  EmbeddedRun run(options);
  TASKER_TRY(run.prepare_state_dir());
  TASKER_TRY(run.check_journal());
  TASKER_TRY(run.start_runtime());
  TASKER_TRY(run.open_queues());
  return run.run(supply, on_result);
}

}  // namespace tasker
