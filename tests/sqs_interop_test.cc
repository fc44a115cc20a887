// Interop with independent SQS clients: a message boto3 or the AWS CLI sends reaches tasker byte
// for byte, and one tasker sends reaches boto3 byte for byte — multi-byte UTF-8 and a body of the
// queue's maximum size included. Runs against moto and against fauxqs.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "queue/queue_rules.h"
#include "queue/sqs/sqs_queue.h"
#include "testing/queue_backends.h"
#include "testing/process.h"
#include "tests/sqs_test_support.h"

namespace tasker::testing {
namespace {

constexpr const char* kClientEnvironment =
    "LC_ALL=C.UTF-8 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
    "AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 ";

/// An endpoint to test against and what it accepts.
struct Endpoint {
  const char* variable;
  /// SQS accepts characters beyond U+FFFF (four UTF-8 bytes); fauxqs 1.9.2 refuses them with
  /// InvalidMessageContents (it checks UTF-16 code units), whichever client sends them.
  bool supplementary_characters;
};

// Test names and logs show the endpoint's variable, not the struct's bytes.
void PrintTo(const Endpoint& endpoint, std::ostream* out) { *out << endpoint.variable; }

/// Two-, three- and (where accepted) four-byte UTF-8 characters, a tab, a newline, quotes and a
/// backslash.
std::string utf8_text(bool supplementary) {
  return std::string("grüße, 東京, ") + (supplementary ? "\xF0\x9F\x9A\x80" : "\xE2\x9C\x88") +
         " rocket\tand \"quotes\" \\ back\nslash";
}

/// A body of exactly kMaxBodyBytes bytes, mostly multi-byte characters.
std::string max_size_body(bool supplementary) {
  std::string body;
  // 2 + 3 + 4 (or 3) + 1 bytes.
  const std::string pattern = std::string("é€") + (supplementary ? "\xF0\x9D\x84\x9E" : "\xE2\x99\xAB") + "a";
  while (body.size() + pattern.size() <= kMaxBodyBytes) body += pattern;
  body.append(kMaxBodyBytes - body.size(), 'z');
  return body;
}

/// Runs a shell command; fails the test with its output when it exits non-zero.
void run(const std::string& command, const std::string& log) {
  const int status = std::system((command + " >" + log + " 2>&1").c_str());
  EXPECT_EQ(status, 0) << command << "\n" << read_file(log);
}

class SqsInteropTest : public ::testing::TestWithParam<Endpoint> {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(endpoint, GetParam().variable);
    supplementary_ = GetParam().supplementary_characters;
    endpoint_ = endpoint;
    client_ = sqs_client_for(endpoint_, dummy_credentials());
    broker_ = std::make_unique<sqs::SqsBroker>(client_);
    name_ = "interop-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    ASSERT_TRUE(broker_->create_queue(name_, QueueOptions{}).ok());
    auto url = broker_->queue_url(name_);
    ASSERT_TRUE(url.ok()) << url.error().message;
    url_ = *url;
    queue_ = std::make_unique<sqs::SqsQueue>(client_, url_);
  }
  void TearDown() override {
    if (broker_) (void)broker_->delete_queue(name_);
  }

  /// Receives the one message an independent client sent.
  std::string receive_body() {
    auto messages = queue_->receive(1, std::chrono::seconds(5));
    EXPECT_TRUE(messages.ok()) << messages.error().message;
    if (!messages || messages->size() != 1) {
      ADD_FAILURE() << "no message arrived";
      return "";
    }
    EXPECT_TRUE(queue_->ack({messages->front().receipt}).ok());
    return messages->front().body;
  }

  /// Sends `body` with tasker and returns what boto3 receives.
  std::string round_trip_to_boto3(const std::string& body) {
    auto sent = queue_->send({body});
    EXPECT_TRUE(sent.ok() && sent->front().ok());
    const std::string received = directory_.file("received");
    run(std::string(kClientEnvironment) + "python3 " + kInteropScript + " receive " + endpoint_ + " '" +
            url_ + "' " + received,
        directory_.file("log"));
    return read_file(received);
  }

  static inline int counter_ = 0;
  bool supplementary_ = true;
  TempDir directory_;
  std::string endpoint_;
  std::string name_;
  std::string url_;
  std::shared_ptr<sqs::SqsClient> client_;
  std::unique_ptr<sqs::SqsBroker> broker_;
  std::unique_ptr<sqs::SqsQueue> queue_;
};

TEST_P(SqsInteropTest, AwsCliMessageReachesTaskerUnchanged) {
  const std::string file = directory_.file("body");
  write_file(file, utf8_text(supplementary_));
  run(std::string(kClientEnvironment) + "aws --endpoint-url " + endpoint_ +
          " sqs send-message --queue-url '" + url_ + "' --message-body file://" + file,
      directory_.file("log"));
  EXPECT_EQ(receive_body(), utf8_text(supplementary_));
}

TEST_P(SqsInteropTest, Boto3MaximumSizeMessageReachesTaskerUnchanged) {
  const std::string body = max_size_body(supplementary_);
  const std::string file = directory_.file("body");
  write_file(file, body);
  run(std::string(kClientEnvironment) + "python3 " + kInteropScript + " send " + endpoint_ + " '" + url_ +
          "' " + file,
      directory_.file("log"));
  const std::string received = receive_body();
  EXPECT_EQ(received.size(), kMaxBodyBytes);
  EXPECT_TRUE(received == body) << "the body changed on the way";
}

TEST_P(SqsInteropTest, TaskerUtf8MessageReachesBoto3Unchanged) {
  EXPECT_EQ(round_trip_to_boto3(utf8_text(supplementary_)), utf8_text(supplementary_));
}

TEST_P(SqsInteropTest, TaskerMaximumSizeMessageReachesBoto3Unchanged) {
  const std::string body = max_size_body(supplementary_);
  const std::string received = round_trip_to_boto3(body);
  EXPECT_EQ(received.size(), kMaxBodyBytes);
  EXPECT_TRUE(received == body) << "the body changed on the way";
}

INSTANTIATE_TEST_SUITE_P(Moto, SqsInteropTest,
                         ::testing::Values(Endpoint{"TASKER_TEST_SQS_ENDPOINT", true}));
INSTANTIATE_TEST_SUITE_P(Fauxqs, SqsInteropTest,
                         ::testing::Values(Endpoint{"TASKER_TEST_FAUXQS_ENDPOINT", false}));

}  // namespace
}  // namespace tasker::testing
