#include <chrono>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "tasker/agent_metrics.h"

namespace tasker {
namespace {

/// The agent's Prometheus metrics, kept in a registry that an exposer serves. Every metric carries
/// the label agent=NAME.
class PrometheusMetrics : public AgentObserver {
 public:
  explicit PrometheusMetrics(const std::string& agent);

  /// Starts serving the registry on `address`.
  Status serve(const std::string& address);

  void on_received() override { received_->Increment(); }
  void on_answered(const TaskResult& result) override;
  void on_refused() override { refused_->Increment(); }
  void on_unauthenticated() override { unauthenticated_->Increment(); }
  void on_running(std::uint64_t running) override { running_->Set(static_cast<double>(running)); }
  void on_queue_error(const Error&) override { queue_errors_->Increment(); }
  void on_polled() override;

 private:
  /// A counter of its own family, with only the agent label.
  prometheus::Counter* counter(const std::string& name, const std::string& help);
  prometheus::Gauge* gauge(const std::string& name, const std::string& help,
                           prometheus::Labels labels = {});

  const std::string agent_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Counter* received_ = nullptr;
  prometheus::Counter* succeeded_ = nullptr;
  prometheus::Counter* failed_ = nullptr;
  prometheus::Counter* refused_ = nullptr;
  prometheus::Counter* unauthenticated_ = nullptr;
  prometheus::Counter* queue_errors_ = nullptr;
  prometheus::Gauge* running_ = nullptr;
  prometheus::Gauge* last_poll_ = nullptr;
  prometheus::Histogram* duration_ = nullptr;
};

PrometheusMetrics::PrometheusMetrics(const std::string& agent) : agent_(agent) {
  auto& tasks = prometheus::BuildCounter()
                    .Name("tasker_agent_tasks_total")
                    .Help("Tasks taken from the queue, and how they ended")
                    .Register(*registry_);
  received_ = &tasks.Add({{"agent", agent_}, {"outcome", "received"}});
  succeeded_ = &tasks.Add({{"agent", agent_}, {"outcome", "succeeded"}});
  failed_ = &tasks.Add({{"agent", agent_}, {"outcome", "failed"}});
  refused_ = &tasks.Add({{"agent", agent_}, {"outcome", "refused"}});
  unauthenticated_ = counter("tasker_agent_unauthenticated_tasks_total",
                             "Tasks not run because their signature was missing, malformed or wrong");
  queue_errors_ = counter("tasker_agent_queue_errors_total",
                          "Queue calls that failed (each is retried or handed back)");
  running_ = gauge("tasker_agent_tasks_running", "Tasks running now");
  last_poll_ = gauge("tasker_agent_last_poll_timestamp_seconds",
                     "Unix time of the agent's last answered receive call on its tasks queue");
  gauge("tasker_agent_info", "The agent's name and version; always 1", {{"version", TASKER_VERSION}})
      ->Set(1);
  duration_ = &prometheus::BuildHistogram()
                   .Name("tasker_agent_task_duration_seconds")
                   .Help("Wall time of each task, container start to result")
                   .Register(*registry_)
                   .Add({{"agent", agent_}},
                        prometheus::Histogram::BucketBoundaries{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                                                                300, 900, 3600});
}

prometheus::Counter* PrometheusMetrics::counter(const std::string& name, const std::string& help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add(
      {{"agent", agent_}});
}

prometheus::Gauge* PrometheusMetrics::gauge(const std::string& name, const std::string& help,
                                            prometheus::Labels labels) {
  labels.emplace("agent", agent_);
  return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
}

Status PrometheusMetrics::serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return Error::invalid("--metrics-addr " + address + ": cannot listen: " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
  return Status::success();
}

void PrometheusMetrics::on_answered(const TaskResult& result) {
  (result.is_success ? succeeded_ : failed_)->Increment();
  duration_->Observe(static_cast<double>(result.duration_ms.value_or(0)) / 1000.0);
}

void PrometheusMetrics::on_polled() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  last_poll_->Set(std::chrono::duration<double>(now).count());
}

}  // namespace

Expected<std::unique_ptr<AgentObserver>> serve_agent_metrics(const AgentMetricsOptions& options) {
  auto metrics = std::make_unique<PrometheusMetrics>(options.agent);
  TASKER_TRY(metrics->serve(options.address));
  return std::unique_ptr<AgentObserver>(std::move(metrics));
}

}  // namespace tasker
