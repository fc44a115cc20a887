#include "tasker/agent.h"

#include "agent/counters.h"
#include "agent/heartbeat.h"
#include "agent/poller.h"
#include "agent/publisher.h"
#include "agent/runtime_health.h"
#include "agent/slots.h"
#include "agent/stop_control.h"
#include "agent/taken_messages.h"
#include "tasker/policy.h"
#include "util/log.h"

namespace tasker {
namespace {

/// Refuses options an agent cannot run with, before anything starts.
Status check_options(const AgentOptions& options) {
  if (options.slots == 0) return Error::invalid("slots must be at least 1");
  if (options.results_queue.empty()) {
    return Error::invalid("no results queue given (Q_RESULTS or --results)");
  }
  return Status::success();
}

}  // namespace

// Each part gets the ones it uses by reference, so they are declared (and built) after those.
struct Agent::Parts {
  Parts(Broker& broker, std::unique_ptr<Queue> tasks, ContainerRuntime& runtime,
        AgentOptions agent_options, AgentObserver* observer)
      : options(std::move(agent_options)),
        stop(options.grace),
        counters(observer, stop),
        taken(std::move(tasks), counters),
        runtime_health(runtime, stop),
        publisher(broker, options, taken, counters, stop),
        slots(options, runtime, runtime_health, taken, publisher, counters, stop),
        heartbeat(options.visibility, taken),
        poller(options, taken, slots, runtime_health, publisher, counters, stop) {}

  /// Says what the agent takes, where its results go, what it allows and whether it checks
  /// signatures.
  void log_start();
  /// Says how it ended.
  void log_stop();

  const AgentOptions options;
  agent::StopControl stop;
  agent::Counters counters;
  agent::TakenMessages taken;
  agent::RuntimeHealth runtime_health;
  agent::Publisher publisher;
  agent::Slots slots;
  agent::Heartbeat heartbeat;
  agent::Poller poller;
};

void Agent::Parts::log_start() {
  log::info("agent {} taking tasks from {} with {} slot(s); results to {}", options.name,
            taken.queue_name(), options.slots, options.results_queue);
  log::info("{}", describe(options.policy));
  log::info("{}", options.signing_key ? "task signing: only tasks signed with this agent's key run"
                                      : "task signing: off (signatures are not checked)");
}

void Agent::Parts::log_stop() {
  const AgentStats stats = counters.stats();
  log::info("agent {} stopped: {} succeeded, {} failed, {} handed back", options.name,
            stats.succeeded, stats.failed, stats.released);
}

Agent::Agent(Broker& broker, std::unique_ptr<Queue> tasks, ContainerRuntime& runtime,
             AgentOptions options, AgentObserver* observer)
    : parts_(std::make_unique<Parts>(broker, std::move(tasks), runtime, std::move(options),
                                     observer)) {}

Agent::~Agent() = default;

Status Agent::run() {
  Parts& p = *parts_;
  TASKER_TRY(check_options(p.options));
  p.log_start();
  // Ask the runtime once: while it is away no task is taken.
  p.runtime_health.check();
  // The slots run tasks, the publisher sends results, the heartbeat keeps messages hidden.
  TASKER_TRY(p.slots.start());
  p.publisher.start();
  p.heartbeat.start();
  // Take tasks on this thread until stopped (or idle, with exit_when_idle).
  p.poller.run();
  // Hand back what has not started; let what runs finish within the grace period, or kill it.
  p.slots.drain();
  // Send the results still waiting, then stop keeping their messages hidden.
  p.publisher.finish();
  p.heartbeat.stop();
  p.log_stop();
  // A fault that stopped the agent by itself (a full disk) is its answer.
  if (auto fault = p.stop.fault()) return *fault;
  return Status::success();
}

void Agent::request_stop() { parts_->stop.request(); }

AgentStats Agent::stats() const { return parts_->counters.stats(); }

}  // namespace tasker
