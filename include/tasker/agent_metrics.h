#pragma once

#include <memory>
#include <string>

#include "tasker/agent_observer.h"
#include "tasker/error.h"

namespace tasker {

/// Where and how an agent's Prometheus metrics are served.
struct AgentMetricsOptions {
  /// "host:port" to listen on (`tasker agent --metrics-addr`).
  std::string address;
  /// The agent's name (`--name`): every metric carries it as the label `agent`, so one dashboard
  /// tells the agents of a fleet apart.
  std::string agent;
};

/// Serves an agent's Prometheus metrics over HTTP at /metrics: tasks received, succeeded, failed
/// and refused (`tasker_agent_tasks_total{outcome}`), tasks refused for their signature, failed
/// queue calls, tasks running and task durations, the time of the last answered receive call
/// (`tasker_agent_last_poll_timestamp_seconds`) and `tasker_agent_info{version}` (always 1).
/// Every metric is labelled `agent`. Pass the observer it returns to the Agent; it serves until
/// destroyed. The error names the address when it cannot listen there.
Expected<std::unique_ptr<AgentObserver>> serve_agent_metrics(const AgentMetricsOptions& options);

}  // namespace tasker
