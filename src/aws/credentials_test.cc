#include "aws/credentials.h"

#include <gtest/gtest.h>

#include "testing/fake_environment.h"
#include "testing/fake_transport.h"

namespace tasker::aws {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using tasker::testing::FakeClock;
using tasker::testing::FakeEnvironment;
using tasker::testing::FakeTransport;

constexpr const char* kDocument =
    R"({"AccessKeyId":"ASIATEMP","SecretAccessKey":"temp-secret","Token":"temp-token",)"
    R"("Expiration":"2026-01-01T06:00:00Z","Code":"Success"})";

TEST(CredentialsTest, EnvironmentKeysAndSessionToken) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                           {"AWS_SESSION_TOKEN", "TOKEN"}};
  auto credentials = credentials_from_environment(environment);
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "AKID");
  EXPECT_EQ(credentials->secret_access_key, "SECRET");
  EXPECT_EQ(credentials->session_token, "TOKEN");
}

TEST(CredentialsTest, HalfAnEnvironmentKeyPairIsAnErrorNamingTheMissingVariable) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_ACCESS_KEY_ID", "AKID"}};
  auto credentials = credentials_from_environment(environment);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(credentials.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(CredentialsTest, SharedCredentialsFileProfileFromAwsProfile) {
  FakeEnvironment environment;
  environment.variables = {{"HOME", "/home/u"}, {"AWS_PROFILE", "work"}};
  environment.files["/home/u/.aws/credentials"] =
      "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n"
      "# a comment\n[work]\naws_access_key_id=WORK\naws_secret_access_key = worksecret\n"
      "aws_session_token = worktoken\n";
  auto credentials = credentials_from_shared_files(environment);
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "WORK");
  EXPECT_EQ(credentials->secret_access_key, "worksecret");
  EXPECT_EQ(credentials->session_token, "worktoken");
}

TEST(CredentialsTest, ConfigFileProfileAndFileOverrides) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_PROFILE", "ci"}, {"AWS_SHARED_CREDENTIALS_FILE", "/c/creds"},
                           {"AWS_CONFIG_FILE", "/c/config"}};
  environment.files["/c/creds"] = "[other]\naws_access_key_id = X\naws_secret_access_key = Y\n";
  environment.files["/c/config"] =
      "[profile ci]\nregion = eu-west-1\naws_access_key_id = CI\naws_secret_access_key = cisecret\n";
  auto credentials = credentials_from_shared_files(environment);
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "CI");
}

TEST(CredentialsTest, NamedProfileThatDoesNotExistIsAnError) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_PROFILE", "typo"}, {"HOME", "/h"}};
  environment.files["/h/.aws/credentials"] = "[default]\naws_access_key_id=A\naws_secret_access_key=B\n";
  auto credentials = credentials_from_shared_files(environment);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(credentials.error().message.find("typo"), std::string::npos);
}

TEST(CredentialsTest, RoleProfilesAreRefusedClearly) {
  FakeEnvironment environment;
  environment.variables = {{"HOME", "/h"}};
  environment.files["/h/.aws/config"] = "[default]\nrole_arn = arn:aws:iam::1:role/x\n";
  auto credentials = credentials_from_shared_files(environment);
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("role_arn"), std::string::npos);
}

TEST(CredentialsTest, ContainerRelativeUriWithTokenFile) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/token"}};
  environment.files["/var/token"] = "container-auth\n";
  FakeTransport transport;
  transport.push(200, kDocument);
  auto credentials = credentials_from_container(environment, transport);
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->access_key_id, "ASIATEMP");
  EXPECT_EQ(credentials->session_token, "temp-token");
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(*credentials->expiration, std::chrono::system_clock::from_time_t(1767247200));
  auto requests = transport.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].url, "http://169.254.170.2/v2/credentials/abc");
  ASSERT_EQ(requests[0].headers.size(), 1u);
  EXPECT_EQ(requests[0].headers[0], std::make_pair(std::string("Authorization"),
                                                   std::string("container-auth")));
}

TEST(CredentialsTest, ContainerFullUriOverPlainHttpMustBeLoopback) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example.com/creds"}};
  FakeTransport transport;
  auto credentials = credentials_from_container(environment, transport);
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().kind, ErrorKind::kInvalidInput);
  EXPECT_TRUE(transport.requests().empty());

  environment.variables = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9911/creds"},
                           {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"}};
  transport.push(200, kDocument);
  EXPECT_TRUE(credentials_from_container(environment, transport).ok());
}

// Given IMDSv2, we should fetch a session token with a PUT, then send it on both GETs.
TEST(CredentialsTest, InstanceMetadataUsesImdsV2TokenOnEveryRead) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/"}};
  FakeTransport transport;
  transport.push(200, "imds-session");
  transport.push(200, "my-role\n");
  transport.push(200, kDocument);
  auto credentials = credentials_from_instance_metadata(environment, transport);
  ASSERT_TRUE(credentials.ok()) << credentials.error().message;
  EXPECT_EQ(credentials->secret_access_key, "temp-secret");
  auto requests = transport.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].url, "http://127.0.0.1:1338/latest/api/token");
  EXPECT_EQ(requests[0].headers[0].first, "X-aws-ec2-metadata-token-ttl-seconds");
  EXPECT_EQ(requests[2].url, "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/my-role");
  for (int i : {1, 2}) {
    ASSERT_EQ(requests[i].headers.size(), 1u);
    EXPECT_EQ(requests[i].headers[0].second, "imds-session");
  }
}

TEST(CredentialsTest, InstanceMetadataCanBeDisabledAndUnreachableMeansNotFound) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_EC2_METADATA_DISABLED", "TRUE"}};
  FakeTransport transport;
  EXPECT_EQ(credentials_from_instance_metadata(environment, transport).error().kind,
            ErrorKind::kNotFound);
  EXPECT_TRUE(transport.requests().empty());
  environment.variables.clear();
  EXPECT_EQ(credentials_from_instance_metadata(environment, transport).error().kind,
            ErrorKind::kNotFound);
}

TEST(CredentialsChainTest, EnvironmentWinsOverFiles) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"HOME", "/h"}};
  environment.files["/h/.aws/credentials"] = "[default]\naws_access_key_id=FILE\naws_secret_access_key=f\n";
  FakeClock clock;
  DefaultCredentialsChain chain(environment, std::make_unique<FakeTransport>(), clock);
  auto credentials = chain.get();
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(credentials->access_key_id, "ENV");
}

// Given no source and instance metadata that refuses its token call (IMDS turned off), the chain
// should say "no AWS credentials found" and list every place it looked, not the HTTP 403.
TEST(CredentialsChainTest, NoSourceSaysNoCredentialsFoundAndWhereItLooked) {
  FakeEnvironment environment;
  environment.variables = {{"HOME", "/h"},
                           {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338"}};
  FakeClock clock;
  auto owned = std::make_unique<FakeTransport>();
  owned->push(403, "");
  DefaultCredentialsChain chain(environment, std::move(owned), clock);
  auto credentials = chain.get();
  ASSERT_FALSE(credentials.ok());
  const std::string& message = credentials.error().message;
  EXPECT_TRUE(message.starts_with("no AWS credentials found")) << message;
  EXPECT_NE(message.find("AWS_ACCESS_KEY_ID is not set"), std::string::npos) << message;
  EXPECT_NE(message.find("AWS_CONTAINER_CREDENTIALS"), std::string::npos) << message;
  EXPECT_NE(message.find("instance metadata at http://127.0.0.1:1338 is turned off"),
            std::string::npos) << message;
  EXPECT_EQ(message.find("refused the request"), std::string::npos) << message;
}

// Given temporary credentials, we should reuse them until kRefreshAhead before expiry, then fetch
// new ones; a failed refresh keeps the old ones while they are still valid.
TEST(CredentialsChainTest, CachesAndRefreshesBeforeExpiry) {
  FakeEnvironment environment;
  environment.variables = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/c"}};
  auto owned = std::make_unique<FakeTransport>();
  FakeTransport& transport = *owned;
  FakeClock clock;
  clock.time = std::chrono::system_clock::from_time_t(1767247200) - hours(1);  // expiry in 1 h
  DefaultCredentialsChain chain(environment, std::move(owned), clock);
  transport.push(200, kDocument);
  ASSERT_TRUE(chain.get().ok());
  clock.time += minutes(50);
  ASSERT_TRUE(chain.get().ok());
  EXPECT_EQ(transport.requests().size(), 1u) << "fetched again although far from expiry";

  clock.time += minutes(6);  // 4 minutes left: due for refresh, and the endpoint fails
  transport.push(500, "");
  auto kept = chain.get();
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ(kept->access_key_id, "ASIATEMP");
  EXPECT_EQ(transport.requests().size(), 2u);

  clock.time += minutes(5);  // expired, and nothing answers
  auto expired = chain.get();
  EXPECT_FALSE(expired.ok());
}

TEST(CredentialsChainTest, NothingConfiguredSaysWhatWasTried) {
  FakeEnvironment environment;
  environment.variables = {{"HOME", "/h"}};
  FakeClock clock;
  DefaultCredentialsChain chain(environment, std::make_unique<FakeTransport>(), clock);
  auto credentials = chain.get();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().kind, ErrorKind::kDenied);
  for (const char* mentioned : {"AWS_ACCESS_KEY_ID", "/h/.aws/credentials", "CONTAINER", "instance metadata"}) {
    EXPECT_NE(credentials.error().message.find(mentioned), std::string::npos) << mentioned;
  }
}

TEST(CredentialsTest, Iso8601Times) {
  EXPECT_EQ(parse_iso8601("2026-01-01T06:00:00Z"), std::chrono::system_clock::from_time_t(1767247200));
  EXPECT_EQ(parse_iso8601("2026-01-01T06:00:00.123Z"), std::chrono::system_clock::from_time_t(1767247200));
  EXPECT_FALSE(parse_iso8601("2026-01-01 06:00").has_value());
  EXPECT_FALSE(parse_iso8601("2026-01-01T06:00:00+02:00").has_value());
}

}  // namespace
}  // namespace tasker::aws
