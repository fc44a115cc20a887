#include "aws/aws_error.h"

#include <gtest/gtest.h>

#include "aws/region.h"
#include "aws/retry.h"
#include "testing/fake_environment.h"

namespace tasker::aws {
namespace {

http::Response response(long status, std::string body,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
  return http::Response{status, std::move(headers), std::move(body)};
}

TEST(AwsErrorTest, JsonTypeAndQueryErrorHeader) {
  auto error = parse_service_error(response(
      400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
      {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
       {"x-amzn-RequestId", "req-1"}}));
  EXPECT_EQ(error.code, "QueueDoesNotExist");
  EXPECT_EQ(error.query_code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(error.request_id, "req-1");
  Error typed = to_error(error, "SQS GetQueueUrl on queue q");
  EXPECT_EQ(typed.kind, ErrorKind::kNotFound);
  EXPECT_EQ(typed.message,
            "SQS GetQueueUrl on queue q: QueueDoesNotExist (HTTP 400): The specified queue does not "
            "exist. [request id req-1]");
}

// moto answers a JSON request whose signature is wrong with an XML body.
TEST(AwsErrorTest, XmlBodyWithBadSignatureIsDeniedWithAHint) {
  auto error = parse_service_error(response(
      403,
      "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
      "<Message>The request signature we calculated does not match &amp; so on.</Message></Error>"
      "<RequestId>r-9</RequestId></ErrorResponse>"));
  EXPECT_EQ(error.code, "SignatureDoesNotMatch");
  EXPECT_EQ(error.message, "The request signature we calculated does not match & so on.");
  Error typed = to_error(error, "SQS CreateQueue");
  EXPECT_EQ(typed.kind, ErrorKind::kDenied);
  EXPECT_NE(typed.message.find("secret access key"), std::string::npos);
  EXPECT_FALSE(typed.transient());
}

TEST(AwsErrorTest, ThrottlingAndServerErrorsAreTransientOthersAreNot) {
  EXPECT_TRUE(to_error(parse_service_error(response(400, R"({"__type":"ThrottlingException"})")), "x").transient());
  EXPECT_TRUE(to_error(parse_service_error(response(503, "")), "x").transient());
  EXPECT_TRUE(to_error(parse_service_error(response(500, "<html>oops</html>")), "x").transient());
  Error too_large = to_error(parse_service_error(response(
      400, R"({"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"Message must be shorter than 262144 bytes."})")), "x");
  EXPECT_EQ(too_large.kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(to_error(parse_service_error(response(400, R"({"__type":"InvalidClientTokenId"})")), "x").kind,
            ErrorKind::kDenied);
}

// Given SQS's answer to a receive at its in-flight limit (HTTP 403 OverLimit), we should get a
// transient error, retried with backoff, not a refusal that ends a run.
TEST(AwsErrorTest, OverLimitOnReceiveIsTransient) {
  auto error = parse_service_error(response(
      403, R"({"__type":"com.amazonaws.sqs#OverLimit","message":"Too many messages in flight"})",
      {{"x-amzn-query-error", "AWS.SimpleQueueService.OverLimit;Sender"}}));
  EXPECT_EQ(error.code, "OverLimit");
  Error typed = to_error(error, "SQS ReceiveMessage on queue q");
  EXPECT_EQ(typed.kind, ErrorKind::kTransient);
  EXPECT_EQ(typed.message,
            "SQS ReceiveMessage on queue q: OverLimit (HTTP 403): Too many messages in flight; the "
            "queue has as many messages in flight as SQS allows (120,000): waiting for some to be "
            "deleted");
}

TEST(AwsErrorTest, RedactRemovesEverySecretOccurrence) {
  EXPECT_EQ(redact("a SECRET12 b SECRET12", {"SECRET12", ""}), "a [redacted] b [redacted]");
  // A secret too short to tell from ordinary text rewrites nothing (issue 20.8: secret `y` made
  // "bytes" into "b[redacted]tes").
  EXPECT_EQ(redact("256 bytes, over the limit", {"y", "ov", "SECRET1"}), "256 bytes, over the limit");
}

TEST(RetryTest, BackoffCeilingDoublesUpToTheCapAndJitterStaysBelowIt) {
  Backoff backoff(RetryPolicy{5, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)},
                  [] { return 0.999; });
  EXPECT_EQ(backoff.ceiling(0).count(), 100);
  EXPECT_EQ(backoff.ceiling(3).count(), 800);
  EXPECT_EQ(backoff.ceiling(4).count(), 1000);
  EXPECT_EQ(backoff.ceiling(1000).count(), 1000);
  EXPECT_EQ(backoff.delay(2).count(), 399);
  Backoff random(RetryPolicy{});
  for (int i = 0; i < 200; ++i) {
    EXPECT_LE(random.delay(i % 8), random.ceiling(i % 8));
    EXPECT_GE(random.delay(i % 8).count(), 0);
  }
}

TEST(RetryTest, TransientErrorsAreRetriedUpToTheLimitPermanentOnesNever) {
  testing::FakeClock clock;
  Backoff backoff(RetryPolicy{4, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)},
                  [] { return 0.5; });
  int calls = 0;
  auto failing = with_retries<int>(backoff, clock, [&]() -> Expected<int> {
    ++calls;
    return Error::transient_failure("throttled");
  });
  EXPECT_EQ(calls, 4);
  EXPECT_NE(failing.error().message.find("gave up after 4 attempts"), std::string::npos);
  EXPECT_EQ(clock.sleeps, (std::vector<std::chrono::milliseconds>{
                              std::chrono::milliseconds(50), std::chrono::milliseconds(100),
                              std::chrono::milliseconds(200)}));

  calls = 0;
  auto denied = with_retries<int>(backoff, clock, [&]() -> Expected<int> {
    ++calls;
    return Error::denied("bad key");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(denied.error().message, "bad key");

  calls = 0;
  auto recovered = with_retries<int>(backoff, clock, [&]() -> Expected<int> {
    if (++calls < 3) return Error::unavailable("connection refused");
    return 7;
  });
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, 7);
}

TEST(RegionTest, RegionComesFromEnvironmentThenConfigFile) {
  testing::FakeEnvironment environment;
  environment.variables = {{"HOME", "/h"}, {"AWS_DEFAULT_REGION", "eu-west-1"}};
  environment.files["/h/.aws/config"] = "[default]\nregion = ap-south-1\n";
  EXPECT_EQ(configured_region(environment), "eu-west-1");
  environment.variables["AWS_REGION"] = "us-west-2";
  EXPECT_EQ(configured_region(environment), "us-west-2");
  environment.variables = {{"HOME", "/h"}};
  EXPECT_EQ(configured_region(environment), "ap-south-1");
  EXPECT_FALSE(validate_region("EU west").ok());
  EXPECT_TRUE(validate_region("eu-west-1").ok());
}

TEST(RegionTest, SqsEndpointSpecificVariableWinsThenGeneralThenRegionalDefault) {
  testing::FakeEnvironment environment;
  EXPECT_FALSE(configured_sqs_endpoint(environment)->has_value());
  environment.variables["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566/";
  EXPECT_EQ(**configured_sqs_endpoint(environment), "http://127.0.0.1:4566");
  environment.variables["AWS_ENDPOINT_URL_SQS"] = "http://127.0.0.1:9324";
  EXPECT_EQ(**configured_sqs_endpoint(environment), "http://127.0.0.1:9324");
  environment.variables["AWS_ENDPOINT_URL_SQS"] = "localhost:9324";
  auto bad = configured_sqs_endpoint(environment);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("AWS_ENDPOINT_URL_SQS"), std::string::npos);
  EXPECT_EQ(default_sqs_endpoint("eu-west-1"), "https://sqs.eu-west-1.amazonaws.com");
  EXPECT_EQ(default_sqs_endpoint("cn-north-1"), "https://sqs.cn-north-1.amazonaws.com.cn");
}

}  // namespace
}  // namespace tasker::aws
