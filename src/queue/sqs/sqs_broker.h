#pragma once

#include <memory>
#include <string>

#include "aws/environment.h"
#include "queue/sqs/sqs_client.h"
#include "tasker/queue.h"

namespace tasker::sqs {

/// SQS as a Broker: queues are created, opened, purged and deleted by name (resolved with
/// GetQueueUrl) or by full queue URL. Thread-safe; the queues it opens share its client.
class SqsBroker : public Broker {
 public:
  explicit SqsBroker(std::shared_ptr<SqsClient> client) : client_(std::move(client)) {}

  Status create_queue(const std::string& name, const QueueOptions& options) override;
  Expected<std::unique_ptr<Queue>> open_queue(const std::string& name_or_url) override;
  Status delete_queue(const std::string& name_or_url) override;
  Status purge_queue(const std::string& name_or_url) override;

  /// The URL of a queue given by name (one GetQueueUrl call) or by URL (returned as is).
  Expected<std::string> queue_url(const std::string& name_or_url);

 private:
  /// Creates one queue with `attributes` and returns its URL; an existing one is left as is.
  Expected<std::string> create_one(const std::string& name, const nlohmann::json& attributes);

  const std::shared_ptr<SqsClient> client_;
};

/// Works out endpoint, region and credentials for an `sqs://` or queue-URL broker address from
/// `environment`: endpoint AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, the address's own host, then
/// AWS's regional endpoint; region AWS_REGION, AWS_DEFAULT_REGION, the config file, the
/// address's region (us-east-1 for a custom endpoint); credentials from the default chain.
Expected<SqsClientConfig> sqs_config_from_environment(const BrokerAddress& address,
                                                      const aws::Environment& environment);

/// Opens the SQS broker an address names, configured from the process environment.
Expected<std::unique_ptr<Broker>> open_sqs_broker(const BrokerAddress& address);

}  // namespace tasker::sqs
