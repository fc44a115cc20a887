#pragma once

#include <memory>
#include <string>

#include "tasker/error.h"

namespace tasker {

/// The agent's Prometheus metrics, served over HTTP at /metrics on the address given
/// (`--metrics-addr`): tasks received/succeeded/failed, running, durations, queue errors.
class AgentMetrics {
 public:
  /// Starts serving on `address` ("host:port"); the error names the address when it cannot bind.
  static Expected<std::unique_ptr<AgentMetrics>> serve(const std::string& address);
  ~AgentMetrics();

  void on_received();
  void on_finished(bool success, double seconds);
  /// A task refused by the agent's policy (also counted as failed when answered).
  void on_refused();
  /// A task refused for a missing, malformed or wrong signature (also counted as failed).
  void on_unauthenticated();
  void set_running(std::uint64_t running);
  void on_queue_error();

 private:
  AgentMetrics();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tasker
