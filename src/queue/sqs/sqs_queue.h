#pragma once

#include <memory>
#include <string>
#include <vector>

#include "queue/sqs/sqs_client.h"
#include "tasker/queue.h"

namespace tasker::sqs {

/// One SQS queue, addressed by the URL SQS gave for it (resolved once, when opened). Every
/// request still goes to the client's endpoint with the URL in the body. Thread-safe.
class SqsQueue : public Queue {
 public:
  SqsQueue(std::shared_ptr<SqsClient> client, std::string url);

  const std::string& name() const override { return name_; }
  const std::string& url() const { return url_; }

  Expected<std::vector<Status>> send(const std::vector<OutgoingMessage>& messages) override;
  /// Each call is a round trip to SQS: the master keeps up to this many in flight (BENCHMARKS.md).
  std::size_t concurrent_calls() const override { return kConcurrentCalls; }
  static constexpr std::size_t kConcurrentCalls = 16;
  Expected<std::vector<Message>> receive(
      std::size_t max_messages, std::chrono::milliseconds wait,
      std::optional<std::chrono::seconds> visibility = std::nullopt,
      std::stop_token stop = {}) override;
  Expected<std::vector<Status>> ack(const std::vector<std::string>& receipts) override;
  Status extend(const std::string& receipt, std::chrono::seconds visibility) override;
  Status release(const std::string& receipt) override;
  Expected<QueueDepth> depth() override;

 private:
  nlohmann::json with_url(nlohmann::json request) const;
  std::string subject() const;
  /// Checks a received entry's attributes against its MD5OfMessageAttributes, when it has one.
  Status check_attributes_md5(const nlohmann::json& entry, const nlohmann::json& attributes,
                              const std::string& message_id) const;

  const std::shared_ptr<SqsClient> client_;
  const std::string url_;
  const std::string name_;
};

/// The queue name of a queue URL: its last path component.
std::string queue_name_of_url(std::string_view url);

}  // namespace tasker::sqs
