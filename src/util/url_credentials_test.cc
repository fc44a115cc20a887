#include "util/url_credentials.h"

#include <gtest/gtest.h>

namespace tasker {
namespace {

// Given an error quoting an endpoint with a password in it, we should print the endpoint without
// its user information, and leave everything else as it was.
TEST(UrlCredentialsTest, RemovesUserInformationFromEveryUrl) {
  EXPECT_EQ(without_url_credentials("SQS GetQueueUrl at http://admin:PASSWORD@127.0.0.1:5399: POST "
                                    "http://admin:PASSWORD@127.0.0.1:5399/: refused"),
            "SQS GetQueueUrl at http://127.0.0.1:5399: POST http://127.0.0.1:5399/: refused");
  EXPECT_EQ(without_url_credentials("'https://user@sqs.example/123/q'"), "'https://sqs.example/123/q'");
  EXPECT_EQ(without_url_credentials("tcp://a:b@c@host:2375?x=1"), "tcp://host:2375?x=1");
}

TEST(UrlCredentialsTest, LeavesTextWithoutCredentialsAlone) {
  EXPECT_EQ(without_url_credentials("http://127.0.0.1:1/ and mail me@example.com"),
            "http://127.0.0.1:1/ and mail me@example.com");
  EXPECT_EQ(without_url_credentials("http://host/path@v1 ://"), "http://host/path@v1 ://");
  EXPECT_EQ(without_url_credentials(""), "");
}

}  // namespace
}  // namespace tasker
