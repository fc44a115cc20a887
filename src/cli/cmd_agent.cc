#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/policy_flags.h"
#include "cli/signals.h"
#include "docker/docker_client.h"
#include "docker/docker_runtime.h"
#include "docker/leftover_containers.h"
#include "queue/queue_rules.h"
#include "tasker/agent.h"
#include "tasker/agent_metrics.h"
#include "util/log.h"

namespace tasker::cli {
namespace {

std::size_t default_slots() {
  // docker-tasker's nProc; the CPU count otherwise.
  const std::string n = env_or("nProc", "");
  if (!n.empty()) {
    try {
      const long value = std::stol(n);
      if (value > 0) return static_cast<std::size_t>(value);
    } catch (const std::exception&) {
    }
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

/// The flags of `tasker agent`, defaulting to docker-tasker's environment (Q_TASK, Q_RESULTS,
/// nProc) and to the library's AgentOptions.
struct AgentFlags {
  std::string broker = env_or("TASKER_BROKER", "sqs://");
  std::string tasks = env_or("Q_TASK", "");
  std::string results = env_or("Q_RESULTS", "");
  std::size_t slots = default_slots();
  std::string name = host_name("agent");
  double visibility = static_cast<double>(AgentOptions().visibility.count());
  double grace = static_cast<double>(AgentOptions().grace.count());
  double poll_wait = 10;
  int max_attempts = AgentOptions().default_max_attempts;
  double default_timeout = 0;
  std::string network;
  std::string metrics_addr;
  bool log_json = false;
  std::string log_level = "info";
  bool exit_when_idle = false;
  PolicyFlags policy;
};

void add_agent_flags(CLI::App& command, AgentFlags& f) {
  command
      .add_option("--broker", f.broker, "sqlite:PATH, sqs://, or a queue URL (env TASKER_BROKER)")
      ->capture_default_str();
  command.add_option("--tasks", f.tasks, "Tasks queue name or URL (env Q_TASK)");
  command.add_option("--results", f.results, "Results queue name or URL (env Q_RESULTS)");
  command.add_option("--slots", f.slots, "Tasks at once (env nProc; default the CPU count)")
      ->check(number_range(1, kMaxSlots))
      ->capture_default_str();
  command.add_option("--name", f.name, "Name on results and container labels")
      ->capture_default_str();
  command
      .add_option("--visibility", f.visibility,
                  "Seconds a taken task stays hidden; kept ahead while it runs")
      ->check(number_range(1, static_cast<double>(kMaxVisibility.count()), "s"))
      ->capture_default_str();
  command
      .add_option("--grace", f.grace,
                  "On SIGTERM, seconds running tasks may finish before they are handed back")
      ->check(number_range(0, static_cast<double>(kMaxVisibility.count()), "s"))
      ->capture_default_str();
  command.add_option("--poll-wait", f.poll_wait, "Longest long-poll wait, seconds")
      ->check(number_range(0, static_cast<double>(kMaxReceiveWait.count()) / 1000, "s"))
      ->capture_default_str();
  command
      .add_option("--max-attempts", f.max_attempts,
                  "Deliveries before a task is answered as failed")
      ->check(number_range(1, kMaxAttemptsLimit))
      ->capture_default_str();
  command.add_option("--default-timeout", f.default_timeout,
                     "Timeout for tasks that set none, seconds (0: none)")
      ->check(number_range(0, kMaxTimeoutSeconds, "s"));
  command.add_option("--network", f.network, "Network mode for tasks that set none");
  command.add_option("--metrics-addr", f.metrics_addr,
                     "Serve Prometheus metrics at HOST:PORT/metrics");
  command.add_flag("--log-json", f.log_json, "Log JSON lines instead of text");
  command.add_option("--log-level", f.log_level, "debug, info, warn or error")
      ->capture_default_str();
  command.add_flag("--exit-when-idle", f.exit_when_idle, "Stop once the tasks queue is empty");
  add_policy_flags(command, f.policy);
}

/// The agent this process runs, once it runs, for the signal watcher; stop signals that come
/// before are counted and passed on when it starts.
std::atomic<Agent*> running_agent{nullptr};
std::atomic<int> early_stops{0};

/// SIGINT/SIGTERM/SIGHUP: the first asks the agent to drain, the second to kill what runs.
void forward_stop_signal(int signal) {
  log::info("received {}", signal == SIGTERM ? "SIGTERM" : signal == SIGHUP ? "SIGHUP" : "SIGINT");
  if (Agent* agent = running_agent.load()) {
    agent->request_stop();
  } else {
    ++early_stops;
  }
}

/// Sets the log level and format from --log-level and --log-json.
Status configure_logging(const AgentFlags& f) {
  log::Level level;
  if (!log::parse_level(f.log_level, level)) {
    return Error::invalid("--log-level: '" + f.log_level + "' is not debug, info, warn or error");
  }
  log::configure(level, f.log_json ? log::Format::kJson : log::Format::kText);
  return Status::success();
}

/// Checks the numbers the flags (and nProc) give, each error naming its flag.
Status check_numbers(const AgentFlags& f) {
  if (f.slots == 0) return Error::invalid("--slots must be at least 1");
  if (const std::string n = env_or("nProc", "");
      !n.empty() && (n.find_first_not_of("0123456789") != std::string::npos || n.size() > 9 ||
                     std::stoul(n) > kMaxSlots)) {
    return Error::invalid(fmt::format("nProc: '{}' is not a whole number from 1 to {}", n, kMaxSlots));
  }
  if (f.visibility < 1 || f.visibility > kMaxVisibility.count()) {
    return Error::invalid("--visibility must be between 1 and " +
                          std::to_string(kMaxVisibility.count()) + " seconds");
  }
  if (f.max_attempts < 1) return Error::invalid("--max-attempts must be at least 1");
  return Status::success();
}

/// What the flags ask for, checked: the broker and tasks queue to open, the agent's options and
/// the Docker runtime's.
struct AgentSetup {
  BrokerAddress broker;
  std::string tasks_queue;
  AgentOptions agent;
  docker::DockerRuntimeOptions runtime;
};

AgentOptions agent_options(const AgentFlags& f, const TaskPolicy& policy,
                           std::optional<SigningKey> key) {
  AgentOptions options;
  options.name = f.name;
  options.slots = f.slots;
  options.results_queue = f.results;
  options.visibility = std::chrono::seconds(static_cast<long long>(f.visibility));
  options.grace = std::chrono::seconds(static_cast<long long>(f.grace));
  options.poll_wait = std::chrono::milliseconds(static_cast<long long>(f.poll_wait * 1000));
  options.default_max_attempts = f.max_attempts;
  options.exit_when_idle = f.exit_when_idle;
  options.policy = policy;
  options.signing_key = std::move(key);
  return options;
}

docker::DockerRuntimeOptions runtime_options(const AgentFlags& f, const TaskPolicy& policy) {
  docker::DockerRuntimeOptions options;
  if (f.default_timeout > 0) {
    options.default_timeout =
        std::chrono::milliseconds(static_cast<long long>(f.default_timeout * 1000));
  }
  if (!f.network.empty()) options.default_network = f.network;
  options.limits = container_limits(policy, !f.policy.max_cpus.empty());
  return options;
}

/// The setup the flags ask for: the queues (the tasks queue may come with the broker address),
/// the numbers, the policy and the signing key, checked in that order.
Expected<AgentSetup> setup_from_flags(const AgentFlags& f) {
  auto address = parse_broker_address(f.broker);
  if (!address) return address.error();
  AgentSetup setup;
  setup.broker = *address;
  setup.tasks_queue = !f.tasks.empty() ? f.tasks : address->queue.value_or("");
  if (setup.tasks_queue.empty()) return Error::invalid("no tasks queue: set Q_TASK or --tasks");
  if (f.results.empty()) return Error::invalid("no results queue: set Q_RESULTS or --results");
  TASKER_TRY(check_numbers(f));
  auto policy = policy_from_flags(f.policy, f.slots);
  if (!policy) return policy.error();
  auto signing_key = SigningKey::from_environment();
  if (!signing_key) return signing_key.error();
  setup.agent = agent_options(f, *policy, std::move(*signing_key));
  setup.runtime = runtime_options(f, *policy);
  return setup;
}

/// The observer serving --metrics-addr; none when it is not set.
Expected<std::unique_ptr<AgentObserver>> metrics_observer(const AgentFlags& f) {
  if (f.metrics_addr.empty()) return std::unique_ptr<AgentObserver>();
  auto observer = serve_agent_metrics({f.metrics_addr, f.name});
  if (observer) log::info("metrics at http://{}/metrics", f.metrics_addr);
  return observer;
}

/// Opens the broker and the tasks queue and runs the agent on `runtime` until it stops; then
/// waits for the runtime's container removals.
Status run_agent(const AgentSetup& setup, docker::DockerRuntime& runtime, AgentObserver* observer) {
  auto broker = open_broker(setup.broker);
  if (!broker) return broker.error();
  auto tasks = (*broker)->open_queue(setup.tasks_queue);
  if (!tasks) return tasks.error();
  Agent agent(**broker, std::move(*tasks), runtime, setup.agent, observer);
  running_agent = &agent;
  for (int i = early_stops.exchange(0); i > 0; --i) agent.request_stop();
  Status status = agent.run();
  running_agent = nullptr;
  runtime.flush_removals();
  return status;
}

/// Connects to the Docker daemon, removes what an earlier run of this agent left, and runs the
/// agent on it.
Status run_on_docker(const AgentSetup& setup, AgentObserver* observer) {
  auto endpoint = docker::endpoint_from_environment();
  if (!endpoint) return endpoint.error();
  docker::DockerClient client(*endpoint);
  docker::DockerRuntime runtime(client, setup.runtime);
  docker::remove_containers_of_earlier_run(client, setup.agent.name);
  return run_agent(setup, runtime, observer);
}

/// `tasker agent`, step by step; the first error ends it.
Status agent_command(const AgentFlags& f) {
  // Before any thread starts (the runtime and queue start some), so that all of them inherit the
  // blocked signals and only the watcher thread sees SIGINT/SIGTERM.
  handle_stop_signals(forward_stop_signal);
  TASKER_TRY(configure_logging(f));
  // Flags -> checked options.
  auto setup = setup_from_flags(f);
  if (!setup) return setup.error();
  // Metrics, served before the runtime and the queue are reached.
  auto observer = metrics_observer(f);
  if (!observer) return observer.error();
  // Runtime -> broker and queues -> agent -> run.
  return run_on_docker(*setup, observer->get());
}

}  // namespace

std::function<int()> setup_agent(CLI::App& command) {
  auto flags = std::make_shared<AgentFlags>();
  add_agent_flags(command, *flags);
  return [flags] {
    const Status status = agent_command(*flags);
    return status ? kExitOk : fail("agent", status.error());
  };
}

}  // namespace tasker::cli
