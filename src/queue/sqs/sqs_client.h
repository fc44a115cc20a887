#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "aws/clock.h"
#include "aws/credentials.h"
#include "aws/retry.h"
#include "queue/sqs/transport_pool.h"
#include "tasker/error.h"

namespace tasker::sqs {

/// Where and as whom an SqsClient talks.
struct SqsClientConfig {
  /// `http(s)://host[:port]`: every request goes here, whatever host a queue URL names.
  std::string endpoint;
  /// The region requests are signed for.
  std::string region;
  std::shared_ptr<aws::CredentialsProvider> credentials;
  aws::RetryPolicy retry;
  /// Makes the HTTP transports; by default libcurl ones.
  TransportPool::Factory transport_factory;
  aws::Clock* clock = &aws::Clock::real();
};

/// SQS's JSON protocol: one action is one SigV4-signed POST to the endpoint with
/// `X-Amz-Target: AmazonSQS.<Action>` and a JSON body. Retries throttling, 5xx and network
/// errors with backoff; reuses connections through a pool. Thread-safe.
class SqsClient {
 public:
  /// The HTTP limit of an ordinary call.
  static constexpr std::chrono::milliseconds kDefaultTimeout{30000};

  explicit SqsClient(SqsClientConfig config);

  /// Performs `action` with `request` as its body and returns the answer's JSON object.
  /// `subject` names what the call is about in error messages ("queue tasks"). A stop on `cancel`
  /// gives the call up at once (kCancelled), never retried.
  Expected<nlohmann::json> call(std::string_view action, const nlohmann::json& request,
                                std::string_view subject,
                                std::chrono::milliseconds timeout = kDefaultTimeout,
                                std::stop_token cancel = {});

  const std::string& endpoint() const { return config_.endpoint; }
  const std::string& region() const { return config_.region; }

 private:
  Expected<nlohmann::json> call_once(std::string_view action, const std::string& body,
                                     const std::string& context, std::chrono::milliseconds timeout,
                                     const std::stop_token& cancel);

  const SqsClientConfig config_;
  const aws::Backoff backoff_;
  TransportPool transports_;
};

/// One Status per entry of a batch answer, from its `Successful` and `Failed` lists by entry
/// Id ("0", "1", ...); `context` prefixes each failure's message.
std::vector<Status> batch_statuses(const nlohmann::json& answer, std::size_t count,
                                   std::string_view context);

/// Checks a body against the characters SQS accepts (valid UTF-8; tab, line feed, carriage
/// return, U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF); the error names the first bad
/// byte offset and code point.
Status validate_sqs_characters(std::string_view body);

/// The hex MD5 of `text`, as SQS reports MD5OfBody.
std::string md5_hex(std::string_view text);

/// The hex MD5 of a message's attributes as SQS reports MD5OfMessageAttributes, from the
/// `MessageAttributes` object of a JSON-protocol answer: for each attribute in name order, the
/// name, the data type and the value, each as a 4-byte big-endian length and its bytes, with a
/// transport byte (1 string, 2 binary) before the value. An error when an entry is malformed.
Expected<std::string> md5_of_message_attributes(const nlohmann::json& attributes);

}  // namespace tasker::sqs
