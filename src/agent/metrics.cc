#include "agent/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace tasker {

struct AgentMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer;
  prometheus::Counter* received = nullptr;
  prometheus::Counter* succeeded = nullptr;
  prometheus::Counter* failed = nullptr;
  prometheus::Counter* refused = nullptr;
  prometheus::Counter* unauthenticated = nullptr;
  prometheus::Counter* queue_errors = nullptr;
  prometheus::Gauge* running = nullptr;
  prometheus::Histogram* duration = nullptr;
};

AgentMetrics::AgentMetrics() : impl_(std::make_unique<Impl>()) {
  auto& registry = *impl_->registry;
  auto& tasks = prometheus::BuildCounter()
                    .Name("tasker_agent_tasks_total")
                    .Help("Tasks taken from the queue, and how they ended")
                    .Register(registry);
  impl_->received = &tasks.Add({{"outcome", "received"}});
  impl_->succeeded = &tasks.Add({{"outcome", "succeeded"}});
  impl_->failed = &tasks.Add({{"outcome", "failed"}});
  impl_->refused = &tasks.Add({{"outcome", "refused"}});
  impl_->unauthenticated =
      &prometheus::BuildCounter()
           .Name("tasker_agent_unauthenticated_tasks_total")
           .Help("Tasks not run because their signature was missing, malformed or wrong")
           .Register(registry)
           .Add({});
  impl_->queue_errors = &prometheus::BuildCounter()
                             .Name("tasker_agent_queue_errors_total")
                             .Help("Queue calls that failed (each is retried or handed back)")
                             .Register(registry)
                             .Add({});
  impl_->running = &prometheus::BuildGauge()
                        .Name("tasker_agent_tasks_running")
                        .Help("Tasks running now")
                        .Register(registry)
                        .Add({});
  impl_->duration = &prometheus::BuildHistogram()
                         .Name("tasker_agent_task_duration_seconds")
                         .Help("Wall time of each task, container start to result")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600});
}

AgentMetrics::~AgentMetrics() = default;

Expected<std::unique_ptr<AgentMetrics>> AgentMetrics::serve(const std::string& address) {
  std::unique_ptr<AgentMetrics> metrics(new AgentMetrics());
  try {
    metrics->impl_->exposer = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return Error::invalid("--metrics-addr " + address + ": cannot listen: " + e.what());
  }
  metrics->impl_->exposer->RegisterCollectable(metrics->impl_->registry);
  return metrics;
}

void AgentMetrics::on_received() { impl_->received->Increment(); }

void AgentMetrics::on_finished(bool success, double seconds) {
  (success ? impl_->succeeded : impl_->failed)->Increment();
  impl_->duration->Observe(seconds);
}

void AgentMetrics::on_refused() { impl_->refused->Increment(); }

void AgentMetrics::on_unauthenticated() { impl_->unauthenticated->Increment(); }

void AgentMetrics::set_running(std::uint64_t running) {
  impl_->running->Set(static_cast<double>(running));
}

void AgentMetrics::on_queue_error() { impl_->queue_errors->Increment(); }

}  // namespace tasker
