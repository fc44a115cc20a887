// Authentication for real: a private moto_server that enforces SigV4 once its first few actions
// (creating an IAM user, its policy and access key) are done. With that key tasker works; with a
// wrong secret it fails at once with a clear, typed error that does not contain the secret.

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "queue/sqs/sqs_queue.h"
#include "testing/process.h"
#include "testing/queue_backends.h"
#include "testing/services.h"
#include "tests/sqs_test_support.h"

namespace tasker::testing {
namespace {

using std::chrono::seconds;

TEST(SqsAuthTest, RightKeyWorksAndWrongSecretFailsFastWithoutLeakingIt) {
  TASKER_REQUIRE_ENV(shared_moto, "TASKER_TEST_SQS_ENDPOINT");  // moto_server is installed
  // Three unauthenticated actions: CreateUser, PutUserPolicy, CreateAccessKey.
  PrivateMoto moto(3);
  ASSERT_TRUE(moto.ready()) << "moto_server did not start";
  std::istringstream key(run_command(
      "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing python3 " + std::string(kInteropScript) +
      " iam-user " + moto.endpoint()).output);
  aws::Credentials credentials;
  key >> credentials.access_key_id >> credentials.secret_access_key;
  ASSERT_FALSE(credentials.secret_access_key.empty()) << "no IAM access key was created";

  // Given the IAM user's key, every action works.
  sqs::SqsBroker good(sqs_client_for(moto.endpoint(), credentials));
  ASSERT_TRUE(good.create_queue("auth-test", QueueOptions{}).ok());
  auto queue = good.open_queue("auth-test");
  ASSERT_TRUE(queue.ok()) << queue.error().message;
  auto sent = (*queue)->send({"signed"});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  auto received = (*queue)->receive(1, seconds(2));
  ASSERT_TRUE(received.ok()) << received.error().message;
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ(received->front().body, "signed");

  // Given the right key id with a wrong secret, we should be refused once, not retried for long.
  aws::Credentials wrong = credentials;
  wrong.secret_access_key = "WRONGsecretWRONGsecretWRONGsecret1234567";
  sqs::SqsBroker bad(sqs_client_for(moto.endpoint(), wrong));
  const auto start = std::chrono::steady_clock::now();
  auto refused = bad.open_queue("auth-test");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kDenied) << refused.error().message;
  EXPECT_NE(refused.error().message.find("secret access key"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find(wrong.secret_access_key), std::string::npos);
  EXPECT_EQ(refused.error().message.find('\n'), std::string::npos);
  EXPECT_LT(elapsed, seconds(3)) << "a refused signature was retried";

  // Given an unknown key id, the error says so.
  aws::Credentials unknown{"AKIAUNKNOWNKEY000000", "whatever", "", std::nullopt, "test"};
  auto unknown_key = sqs::SqsBroker(sqs_client_for(moto.endpoint(), unknown)).open_queue("auth-test");
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_EQ(unknown_key.error().kind, ErrorKind::kDenied) << unknown_key.error().message;
}

}  // namespace
}  // namespace tasker::testing
