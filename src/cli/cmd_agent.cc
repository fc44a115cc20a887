#include <unistd.h>

#include <csignal>

#include <atomic>
#include <thread>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/policy_flags.h"
#include "cli/signals.h"
#include "docker/docker_client.h"
#include "docker/docker_runtime.h"
#include "docker/leftover_containers.h"
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

}  // namespace

std::function<int()> setup_agent(CLI::App& command) {
  struct Flags {
    std::string broker = env_or("TASKER_BROKER", "sqs://");
    std::string tasks = env_or("Q_TASK", "");
    std::string results = env_or("Q_RESULTS", "");
    std::size_t slots = default_slots();
    std::string name = host_name("agent");
    double visibility = 30;
    double grace = 30;
    double poll_wait = 10;
    int max_attempts = 3;
    double default_timeout = 0;
    std::string network;
    std::string metrics_addr;
    bool log_json = false;
    std::string log_level = "info";
    bool exit_when_idle = false;
    PolicyFlags policy;
  };
  auto f = std::make_shared<Flags>();
  command.add_option("--broker", f->broker, "sqlite:PATH, sqs://, or a queue URL (env TASKER_BROKER)")
      ->capture_default_str();
  command.add_option("--tasks", f->tasks, "Tasks queue name or URL (env Q_TASK)");
  command.add_option("--results", f->results, "Results queue name or URL (env Q_RESULTS)");
  command.add_option("--slots", f->slots, "Tasks at once (env nProc; default the CPU count)")
      ->capture_default_str();
  command.add_option("--name", f->name, "Name on results and container labels")->capture_default_str();
  command.add_option("--visibility", f->visibility, "Seconds a taken task stays hidden; kept ahead while it runs")
      ->capture_default_str();
  command.add_option("--grace", f->grace, "On SIGTERM, seconds running tasks may finish before they are handed back")
      ->capture_default_str();
  command.add_option("--poll-wait", f->poll_wait, "Longest long-poll wait, seconds")->capture_default_str();
  command.add_option("--max-attempts", f->max_attempts, "Deliveries before a task is answered as failed")
      ->capture_default_str();
  command.add_option("--default-timeout", f->default_timeout, "Timeout for tasks that set none, seconds (0: none)");
  command.add_option("--network", f->network, "Network mode for tasks that set none");
  command.add_option("--metrics-addr", f->metrics_addr, "Serve Prometheus metrics at HOST:PORT/metrics");
  command.add_flag("--log-json", f->log_json, "Log JSON lines instead of text");
  command.add_option("--log-level", f->log_level, "debug, info, warn or error")->capture_default_str();
  command.add_flag("--exit-when-idle", f->exit_when_idle, "Stop once the tasks queue is empty");
  add_policy_flags(command, f->policy);
  return [f] {
    // Before any thread starts (the runtime and queue start some), so that all of them inherit
    // the blocked signals and only the watcher thread sees SIGINT/SIGTERM.
    static std::atomic<Agent*> running_agent{nullptr};
    static std::atomic<int> early_stops{0};
    handle_stop_signals([](int signal) {
      log::info("received {}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
      if (Agent* agent = running_agent.load()) {
        agent->request_stop();
      } else {
        ++early_stops;
      }
    });
    log::Level level;
    if (!log::parse_level(f->log_level, level)) {
      return fail("agent", Error::invalid("--log-level: '" + f->log_level + "' is not debug, info, warn or error"));
    }
    log::configure(level, f->log_json ? log::Format::kJson : log::Format::kText);

    auto address = parse_broker_address(f->broker);
    if (!address) return fail("agent", address.error());
    if (f->tasks.empty() && address->queue) f->tasks = *address->queue;
    if (f->tasks.empty()) return fail("agent", Error::invalid("no tasks queue: set Q_TASK or --tasks"));
    if (f->results.empty()) return fail("agent", Error::invalid("no results queue: set Q_RESULTS or --results"));
    if (f->slots == 0) return fail("agent", Error::invalid("--slots must be at least 1"));
    if (const std::string n = env_or("nProc", ""); !n.empty() && n.find_first_not_of("0123456789") != std::string::npos) {
      return fail("agent", Error::invalid("nProc: '" + n + "' is not a positive whole number"));
    }
    if (f->visibility < 1 || f->visibility > 43200) {
      return fail("agent", Error::invalid("--visibility must be between 1 and 43200 seconds"));
    }
    if (f->max_attempts < 1) return fail("agent", Error::invalid("--max-attempts must be at least 1"));
    auto policy = policy_from_flags(f->policy, f->slots);
    if (!policy) return fail("agent", policy.error());

    auto signing_key = SigningKey::from_environment();
    if (!signing_key) return fail("agent", signing_key.error());

    std::unique_ptr<AgentObserver> metrics;
    if (!f->metrics_addr.empty()) {
      auto served = serve_agent_metrics({f->metrics_addr});
      if (!served) return fail("agent", served.error());
      metrics = std::move(*served);
    }

    auto endpoint = docker::endpoint_from_environment();
    if (!endpoint) return fail("agent", endpoint.error());
    docker::DockerClient client(*endpoint);
    docker::DockerRuntimeOptions runtime_options;
    if (f->default_timeout > 0) {
      runtime_options.default_timeout =
          std::chrono::milliseconds(static_cast<long long>(f->default_timeout * 1000));
    }
    if (!f->network.empty()) runtime_options.default_network = f->network;
    runtime_options.limits = container_limits(*policy, !f->policy.max_cpus.empty());
    docker::DockerRuntime runtime(client, runtime_options);
    docker::remove_containers_of_earlier_run(client, f->name);

    auto broker = open_broker(*address);
    if (!broker) return fail("agent", broker.error());
    auto tasks = (*broker)->open_queue(f->tasks);
    if (!tasks) return fail("agent", tasks.error());

    AgentOptions options;
    options.name = f->name;
    options.slots = f->slots;
    options.results_queue = f->results;
    options.visibility = std::chrono::seconds(static_cast<long long>(f->visibility));
    options.grace = std::chrono::seconds(static_cast<long long>(f->grace));
    options.poll_wait = std::chrono::milliseconds(static_cast<long long>(f->poll_wait * 1000));
    options.default_max_attempts = f->max_attempts;
    options.exit_when_idle = f->exit_when_idle;
    options.policy = *policy;
    options.signing_key = std::move(*signing_key);
    Agent agent(**broker, std::move(*tasks), runtime, options, metrics.get());
    running_agent = &agent;
    for (int i = early_stops.exchange(0); i > 0; --i) agent.request_stop();
    auto status = agent.run();
    running_agent = nullptr;
    runtime.flush_removals();
    if (!status) return fail("agent", status.error());
    return kExitOk;
  };
}

}  // namespace tasker::cli
