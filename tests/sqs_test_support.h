#pragma once

// Opening SQS brokers on the test endpoints (moto from the harness, fauxqs) with fixed keys.

#include <memory>
#include <string>

#include "aws/credentials.h"
#include "queue/sqs/sqs_broker.h"
#include "queue/sqs/sqs_client.h"
#include "testing/services.h"

namespace tasker::testing {

/// Dummy keys: moto and fauxqs accept any unless moto is told to enforce SigV4.
inline aws::Credentials dummy_credentials() {
  return aws::Credentials{"testing", "testing", "", std::nullopt, "test"};
}

/// An SQS client for `endpoint` signing with `credentials` in us-east-1.
inline std::shared_ptr<sqs::SqsClient> sqs_client_for(const std::string& endpoint,
                                                      aws::Credentials credentials,
                                                      aws::RetryPolicy retry = {}) {
  sqs::SqsClientConfig config;
  config.endpoint = endpoint;
  config.region = "us-east-1";
  config.credentials = std::make_shared<aws::StaticCredentialsProvider>(std::move(credentials));
  config.retry = retry;
  return std::make_shared<sqs::SqsClient>(std::move(config));
}

/// A broker on the endpoint named by environment variable `variable`, or kUnavailable when it is
/// unset (the conformance fixture then skips, or fails under TASKER_REQUIRE_SERVICES=1).
inline Expected<std::unique_ptr<Broker>> sqs_broker_from_env(const char* variable) {
  const std::string endpoint = env_or_empty(variable);
  if (endpoint.empty()) {
    return Error::unavailable(std::string(variable) + " is not set: start the services with tests/harness.sh");
  }
  return std::unique_ptr<Broker>(
      std::make_unique<sqs::SqsBroker>(sqs_client_for(endpoint, dummy_credentials())));
}

}  // namespace tasker::testing
