#pragma once

// Opening SQS brokers on the test endpoints (moto from the harness, fauxqs) with fixed keys.

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "aws/credentials.h"
#include "queue/sqs/sqs_broker.h"
#include "queue/sqs/sqs_client.h"
#include "testing/process.h"
#include "testing/queue_backends.h"
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

/// The boto3/IAM helper script of the interop and authentication tests.
inline constexpr const char* kInteropScript = TASKER_SOURCE_DIR "/tests/interop/sqs_interop.py";

/// A moto_server of the test's own on a free loopback port that enforces SigV4 and IAM policies
/// once its first `unauthenticated_actions` actions (the set-up: users, policies, keys) are done.
class PrivateMoto {
 public:
  explicit PrivateMoto(int unauthenticated_actions) {
    port_ = run_command("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
                        "print(s.getsockname()[1])'").output;
    while (!port_.empty() && port_.back() == '\n') port_.pop_back();
    const std::string pid =
        run_command("INITIAL_NO_AUTH_ACTION_COUNT=" + std::to_string(unauthenticated_actions) +
                    " setsid moto_server -H 127.0.0.1 -p " + port_ + " </dev/null >" + log_.file("moto.log") +
                    " 2>&1 & echo $!").output;
    pid_ = std::atoi(pid.c_str());
    for (int i = 0; i < 150 && !ready(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~PrivateMoto() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  PrivateMoto(const PrivateMoto&) = delete;
  PrivateMoto& operator=(const PrivateMoto&) = delete;

  bool ready() const {
    return run_command("curl -s -o /dev/null -w '%{http_code}' " + endpoint() + "/moto-api/").output == "200";
  }
  std::string endpoint() const { return "http://127.0.0.1:" + port_; }

 private:
  TempDir log_;
  std::string port_;
  pid_t pid_ = -1;
};

}  // namespace tasker::testing
