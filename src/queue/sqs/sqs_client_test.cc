#include "queue/sqs/sqs_client.h"

#include <gtest/gtest.h>

#include "queue/sqs/sqs_broker.h"
#include "queue/sqs/sqs_queue.h"
#include "testing/fake_environment.h"
#include "testing/fake_transport.h"
#include "testing/loopback_http_server.h"

namespace tasker::sqs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tasker::testing::FakeClock;
using tasker::testing::FakeTransport;

constexpr const char* kSecret = "DUMMYsecretDUMMYsecret0123456789abcdefgh";
constexpr const char* kToken = "DUMMYsessionTOKEN/xyz";
// A queue URL whose host is not the endpoint, as fauxqs and AWS itself answer.
constexpr const char* kQueueUrl = "http://sqs.us-east-1.localhost:9999/000000000000/tasks";

/// A client whose requests all go to `transport` (shared, so the test can read its records).
struct Harness {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  FakeClock clock;
  std::shared_ptr<SqsClient> client;

  Harness() {
    SqsClientConfig config;
    config.endpoint = "http://127.0.0.1:4566";
    config.region = "eu-west-1";
    config.credentials = std::make_shared<aws::StaticCredentialsProvider>(
        aws::Credentials{"AKIDTEST", kSecret, kToken, std::nullopt, "test"});
    config.transport_factory = [transport = transport] {
      // Each pooled transport forwards to the one shared fake.
      struct Forward : http::Transport {
        std::shared_ptr<FakeTransport> target;
        Expected<http::Response> perform(const http::Request& request) override {
          return target->perform(request);
        }
      };
      auto forward = std::make_unique<Forward>();
      forward->target = transport;
      return forward;
    };
    config.clock = &clock;
    client = std::make_shared<SqsClient>(std::move(config));
  }

  nlohmann::json body(std::size_t index) const {
    return nlohmann::json::parse(transport->requests().at(index).body);
  }
};

std::string header(const http::Request& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(SqsClientTest, EveryActionIsASignedJsonPostToTheEndpoint) {
  Harness harness;
  harness.transport->push(200, R"({"MessageId":"m1","MD5OfMessageBody":"x"})");
  SqsQueue queue(harness.client, kQueueUrl);
  auto sent = queue.send({"hello"});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_TRUE(sent->front().ok());

  const http::Request request = harness.transport->requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "http://127.0.0.1:4566/") << "sent to the queue URL's host, or with a query";
  EXPECT_EQ(header(request, "X-Amz-Target"), "AmazonSQS.SendMessage");
  EXPECT_EQ(header(request, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(header(request, "X-Amz-Security-Token"), kToken);
  EXPECT_EQ(request.aws_sigv4, "aws:amz:eu-west-1:sqs");
  EXPECT_EQ(request.aws_keys->first, "AKIDTEST");
  EXPECT_EQ(harness.body(0)["QueueUrl"], kQueueUrl);
  EXPECT_EQ(harness.body(0)["MessageBody"], "hello");
}

TEST(SqsClientTest, ReceiveRoundsTheWaitUpAndTheHttpTimeoutOutlastsIt) {
  Harness harness;
  harness.transport->push(200, nlohmann::json{{"Messages",
                                               {{{"MessageId", "m1"},
                                                 {"ReceiptHandle", "r1"},
                                                 {"Body", "héllo"},
                                                 {"MD5OfBody", md5_hex("héllo")},
                                                 {"Attributes", {{"ApproximateReceiveCount", "3"}}}}}}}
                                   .dump());
  SqsQueue queue(harness.client, kQueueUrl);
  auto messages = queue.receive(4, milliseconds(1500), seconds(60));
  ASSERT_TRUE(messages.ok()) << messages.error().message;
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ(messages->front().body, "héllo");
  EXPECT_EQ(messages->front().receive_count, 3);
  EXPECT_EQ(messages->front().receipt, "r1");
  EXPECT_EQ(harness.body(0)["WaitTimeSeconds"], 2);
  EXPECT_EQ(harness.body(0)["MaxNumberOfMessages"], 4);
  EXPECT_EQ(harness.body(0)["VisibilityTimeout"], 60);
  EXPECT_GT(harness.transport->requests().at(0).timeout, seconds(2) + seconds(5));
}

TEST(SqsClientTest, ReceivedBodyWhoseMd5DoesNotMatchIsRefused) {
  Harness harness;
  harness.transport->push(200, R"({"Messages":[{"MessageId":"m","ReceiptHandle":"r","Body":"a","MD5OfBody":"00"}]})");
  SqsQueue queue(harness.client, kQueueUrl);
  EXPECT_FALSE(queue.receive(1, milliseconds(0)).ok());
}

// Given a message with attributes, we should send them as SQS String attributes beside the body,
// and ask for every attribute when receiving.
TEST(SqsClientTest, AttributesTravelAsStringMessageAttributes) {
  Harness harness;
  harness.transport->push(200, R"({"MessageId":"m1"})");
  harness.transport->push(200, R"({"Messages":[]})");
  SqsQueue queue(harness.client, kQueueUrl);
  auto sent = queue.send({OutgoingMessage("body", {{"tasker-signature", "v1=00"}})});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(harness.body(0)["MessageBody"], "body");
  EXPECT_EQ(harness.body(0)["MessageAttributes"],
            (nlohmann::json{{"tasker-signature", {{"DataType", "String"}, {"StringValue", "v1=00"}}}}));
  ASSERT_TRUE(queue.receive(1, milliseconds(0)).ok());
  EXPECT_EQ(harness.body(1)["MessageAttributeNames"], nlohmann::json::array({"All"}));
}

TEST(SqsClientTest, ReceivedAttributesWhoseMd5DoesNotMatchAreRefused) {
  Harness harness;
  nlohmann::json message = {{"MessageId", "m"},
                            {"ReceiptHandle", "r"},
                            {"Body", "a"},
                            {"MD5OfBody", md5_hex("a")},
                            {"MessageAttributes",
                             {{"tasker-signature", {{"DataType", "String"}, {"StringValue", "v1=00"}}}}},
                            {"MD5OfMessageAttributes", "00000000000000000000000000000000"}};
  harness.transport->push(200, nlohmann::json{{"Messages", {message}}}.dump());
  SqsQueue queue(harness.client, kQueueUrl);
  auto received = queue.receive(1, milliseconds(0));
  ASSERT_FALSE(received.ok());
  EXPECT_TRUE(received.error().transient());
  EXPECT_NE(received.error().message.find("MD5OfMessageAttributes"), std::string::npos);
}

// The attribute digest covers names, types and values: changing any of them changes it, and a
// binary attribute is hashed as its decoded bytes (transport byte 2).
TEST(SqsClientTest, AttributeMd5CoversEveryPart) {
  auto digest = [](const nlohmann::json& attributes) {
    auto md5 = md5_of_message_attributes(attributes);
    EXPECT_TRUE(md5.ok()) << md5.error().message;
    return md5.ok() ? *md5 : std::string();
  };
  const nlohmann::json base = {{"a", {{"DataType", "String"}, {"StringValue", "x"}}}};
  const std::string reference = digest(base);
  EXPECT_EQ(reference.size(), 32u);
  EXPECT_NE(digest({{"b", {{"DataType", "String"}, {"StringValue", "x"}}}}), reference);
  EXPECT_NE(digest({{"a", {{"DataType", "String.x"}, {"StringValue", "x"}}}}), reference);
  EXPECT_NE(digest({{"a", {{"DataType", "String"}, {"StringValue", "y"}}}}), reference);
  // "eA==" is base64 for "x": the same bytes under another transport type.
  EXPECT_NE(digest({{"a", {{"DataType", "Binary"}, {"BinaryValue", "eA=="}}}}), reference);
  EXPECT_FALSE(md5_of_message_attributes({{"a", {{"DataType", "Binary"}, {"BinaryValue", "e"}}}}).ok());
  EXPECT_FALSE(md5_of_message_attributes({{"a", {{"StringValue", "x"}}}}).ok());
}

TEST(SqsClientTest, PartialBatchFailureIsReportedEntryByEntry) {
  Harness harness;
  harness.transport->push(200, R"({"Successful":[{"Id":"0"},{"Id":"2"}],
      "Failed":[{"Id":"1","SenderFault":false,"Code":"InternalError","Message":"try again"}]})");
  SqsQueue queue(harness.client, kQueueUrl);
  auto statuses = queue.send({"a", "b", "c"});
  ASSERT_TRUE(statuses.ok());
  ASSERT_EQ(statuses->size(), 3u);
  EXPECT_TRUE((*statuses)[0].ok());
  ASSERT_FALSE((*statuses)[1].ok());
  EXPECT_TRUE((*statuses)[1].error().transient()) << "a server-side entry failure is worth retrying";
  EXPECT_NE((*statuses)[1].error().message.find("InternalError"), std::string::npos);
  EXPECT_TRUE((*statuses)[2].ok());
  EXPECT_EQ(harness.transport->requests().at(0).headers[1].second, "AmazonSQS.SendMessageBatch");
}

// Given bodies SQS would refuse (control characters, broken UTF-8), we should answer those entries
// at once and send only the others.
TEST(SqsClientTest, CharactersSqsRefusesAreAnsweredPerEntryWithoutBeingSent) {
  Harness harness;
  harness.transport->push(200, R"({"MessageId":"m"})");
  SqsQueue queue(harness.client, kQueueUrl);
  auto statuses = queue.send({std::string("bell\x07"), "fine \xF0\x9F\x98\x80", "bad \xC3"});
  ASSERT_TRUE(statuses.ok());
  EXPECT_EQ((*statuses)[0].error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE((*statuses)[0].error().message.find("U+0007"), std::string::npos);
  EXPECT_TRUE((*statuses)[1].ok());
  EXPECT_NE((*statuses)[2].error().message.find("UTF-8"), std::string::npos);
  ASSERT_EQ(harness.transport->requests().size(), 1u);
  EXPECT_EQ(harness.body(0)["MessageBody"], "fine \xF0\x9F\x98\x80");
  EXPECT_TRUE(validate_sqs_characters("tab\tnl\ncr\r\xEF\xBF\xBD").ok());
  EXPECT_FALSE(validate_sqs_characters("\xEF\xBF\xBF").ok());  // U+FFFF
}

TEST(SqsClientTest, ThrottlingServerErrorsAndResetsAreRetriedWithBackoff) {
  Harness harness;
  harness.transport->push(400, R"({"__type":"com.amazonaws.sqs#ThrottlingException"})");
  harness.transport->push(503, "");
  harness.transport->push_error(Error::transient_failure("connection reset"));
  harness.transport->push(200, R"({"QueueUrl":"http://x/1/q"})");
  SqsBroker broker(harness.client);
  auto url = broker.queue_url("q");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(*url, "http://x/1/q");
  EXPECT_EQ(harness.transport->requests().size(), 4u);
  EXPECT_EQ(harness.clock.sleeps.size(), 3u);
}

// Given a queue at SQS's in-flight limit, a receive should back off and try again (here the limit
// has passed by the third try), not fail as a refusal.
TEST(SqsClientTest, ReceiveAtTheInFlightLimitBacksOffAndGoesOn) {
  Harness harness;
  const std::string over_limit = R"({"__type":"com.amazonaws.sqs#OverLimit","message":"limit"})";
  harness.transport->push(403, over_limit);
  harness.transport->push(403, over_limit);
  harness.transport->push(200, R"({"Messages":[{"MessageId":"m1","ReceiptHandle":"r1","Body":"b"}]})");
  SqsQueue queue(harness.client, kQueueUrl);
  auto received = queue.receive(1, std::chrono::seconds(1));
  ASSERT_TRUE(received.ok()) << received.error().message;
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ(received->front().body, "b");
  EXPECT_EQ(harness.clock.sleeps.size(), 2u);
}

// Given a receive that stays at the limit past the client's retries, the error should say so and
// be transient, so the agent and the master wait and go on.
TEST(SqsClientTest, LastingOverLimitIsATransientErrorThatSaysWhy) {
  Harness harness;
  harness.transport->set_handler([](const http::Request&) -> Expected<http::Response> {
    return http::Response{403, {}, R"({"__type":"com.amazonaws.sqs#OverLimit"})"};
  });
  SqsQueue queue(harness.client, kQueueUrl);
  auto received = queue.receive(1, std::chrono::seconds(1));
  ASSERT_FALSE(received.ok());
  EXPECT_TRUE(received.error().transient());
  EXPECT_NE(received.error().message.find("in flight as SQS allows (120,000)"), std::string::npos)
      << received.error().message;
}

TEST(SqsClientTest, WrongSecretIsNotRetried) {
  Harness harness;
  harness.transport->push(403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code>"
                               "<Message>no</Message></Error></ErrorResponse>");
  SqsBroker broker(harness.client);
  auto url = broker.queue_url("q");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().kind, ErrorKind::kDenied);
  EXPECT_EQ(harness.transport->requests().size(), 1u);
  EXPECT_TRUE(harness.clock.sleeps.empty());
}

// Given a secret that an endpoint or the network layer echoes back, no error may carry it.
TEST(SqsClientTest, SecretsNeverAppearInErrors) {
  const std::string echo = std::string("echo ") + kSecret + " and " + kToken;
  std::vector<std::function<void(FakeTransport&)>> failures = {
      [&](FakeTransport& t) { t.push(400, nlohmann::json{{"__type", "InvalidParameterValue"}, {"message", echo}}.dump()); },
      [&](FakeTransport& t) { t.push(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>" + echo + "</Message></Error>"); },
      [&](FakeTransport& t) { t.push(400, "", {{"x-amzn-query-error", echo + ";Sender"}}); },
      [&](FakeTransport& t) { t.push_error(Error::internal(echo)); },
      [&](FakeTransport& t) { t.push_error(Error::denied(echo)); },
      [&](FakeTransport& t) { t.push(200, R"({"Successful":[],"Failed":[{"Id":"0","Code":"X","Message":")" + echo + R"("},{"Id":"1","Code":"X","Message":")" + echo + R"("}]})"); },
  };
  for (std::size_t i = 0; i < failures.size(); ++i) {
    Harness harness;
    failures[i](*harness.transport);
    SqsQueue queue(harness.client, kQueueUrl);
    std::vector<std::string> messages;
    if (i == failures.size() - 1) {
      auto statuses = queue.send({"a", "b"});
      ASSERT_TRUE(statuses.ok());
      for (const Status& status : *statuses) messages.push_back(status.ok() ? "" : status.error().message);
    } else {
      auto depth = queue.depth();
      ASSERT_FALSE(depth.ok()) << "case " << i;
      messages.push_back(depth.error().message);
    }
    for (const std::string& message : messages) {
      EXPECT_EQ(message.find(kSecret), std::string::npos) << "case " << i << ": " << message;
      EXPECT_EQ(message.find(kToken), std::string::npos) << "case " << i << ": " << message;
    }
  }
}

// Given a real libcurl transport, consecutive calls should reuse one kept-alive connection.
TEST(SqsClientTest, ConnectionsAreReused) {
  testing::LoopbackHttpServer server([](const testing::LoopbackHttpServer::Request&) {
    return std::make_pair(200, std::string(R"({"Attributes":{"ApproximateNumberOfMessages":"4"}})"));
  });
  SqsClientConfig config;
  config.endpoint = server.url();
  config.region = "us-east-1";
  config.credentials = std::make_shared<aws::StaticCredentialsProvider>(
      aws::Credentials{"AKID", "secret", "", std::nullopt, "test"});
  SqsQueue queue(std::make_shared<SqsClient>(std::move(config)), kQueueUrl);
  for (int i = 0; i < 5; ++i) {
    auto depth = queue.depth();
    ASSERT_TRUE(depth.ok()) << depth.error().message;
    EXPECT_EQ(depth->visible, 4);
  }
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests()[0].header("Expect"), "");
  EXPECT_NE(server.requests()[0].header("Authorization").find("/us-east-1/sqs/aws4_request"),
            std::string::npos);
}

TEST(SqsBrokerConfigTest, EndpointAndRegionFollowTheSdkOrder) {
  testing::FakeEnvironment environment;
  environment.variables = {{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}};
  BrokerAddress by_name;
  by_name.kind = BrokerAddress::Kind::kSqs;
  EXPECT_EQ(sqs_config_from_environment(by_name, environment).error().kind, ErrorKind::kInvalidInput);

  environment.variables["AWS_REGION"] = "eu-west-1";
  auto regional = sqs_config_from_environment(by_name, environment);
  ASSERT_TRUE(regional.ok());
  EXPECT_EQ(regional->endpoint, "https://sqs.eu-west-1.amazonaws.com");

  auto url = parse_broker_address("https://sqs.ap-south-1.amazonaws.com/123456789012/tasks");
  ASSERT_TRUE(url.ok());
  auto from_url = sqs_config_from_environment(*url, environment);
  EXPECT_EQ(from_url->endpoint, "https://sqs.ap-south-1.amazonaws.com");
  EXPECT_EQ(from_url->region, "ap-south-1");

  environment.variables["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1111";
  environment.variables["AWS_ENDPOINT_URL_SQS"] = "http://127.0.0.1:2222/";
  auto overridden = sqs_config_from_environment(*url, environment);
  EXPECT_EQ(overridden->endpoint, "http://127.0.0.1:2222");
  EXPECT_EQ(overridden->region, "eu-west-1");
}

}  // namespace
}  // namespace tasker::sqs
