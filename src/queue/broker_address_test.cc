#include <gtest/gtest.h>

#include "tasker/queue.h"

namespace tasker {
namespace {

BrokerAddress parsed(std::string_view text) {
  auto address = parse_broker_address(text);
  EXPECT_TRUE(address.ok()) << address.error().message;
  return address.ok() ? *address : BrokerAddress{};
}

std::string error_of(std::string_view text) {
  auto address = parse_broker_address(text);
  EXPECT_FALSE(address.ok()) << text << " was accepted";
  if (address.ok()) return {};
  EXPECT_EQ(address.error().kind, ErrorKind::kInvalidInput);
  return address.error().message;
}

TEST(BrokerAddressTest, SqliteTakesRelativeAndAbsolutePaths) {
  BrokerAddress relative = parsed("sqlite:queue.db");
  EXPECT_EQ(relative.kind, BrokerAddress::Kind::kSqlite);
  EXPECT_EQ(relative.sqlite_path, "queue.db");
  EXPECT_FALSE(relative.queue.has_value());
  EXPECT_EQ(parsed("sqlite:/var/lib/tasker/q.db").sqlite_path, "/var/lib/tasker/q.db");
  EXPECT_EQ(parsed("sqlite:./data/my queue.db").sqlite_path, "./data/my queue.db");
}

TEST(BrokerAddressTest, SqsByNameOrWithoutOne) {
  BrokerAddress bare = parsed("sqs://");
  EXPECT_EQ(bare.kind, BrokerAddress::Kind::kSqs);
  EXPECT_FALSE(bare.queue.has_value());
  BrokerAddress named = parsed("sqs://tasks-1_a");
  EXPECT_EQ(named.kind, BrokerAddress::Kind::kSqs);
  EXPECT_EQ(named.queue, "tasks-1_a");
  EXPECT_FALSE(named.endpoint.has_value());
  EXPECT_EQ(parsed("sqs://orders.fifo").queue, "orders.fifo");
}

TEST(BrokerAddressTest, AwsQueueUrlGivesUrlEndpointAndRegion) {
  const std::string url = "https://sqs.eu-west-1.amazonaws.com/123456789012/tasks";
  BrokerAddress address = parsed(url);
  EXPECT_EQ(address.kind, BrokerAddress::Kind::kSqs);
  EXPECT_EQ(address.queue, url);
  EXPECT_EQ(address.endpoint, "https://sqs.eu-west-1.amazonaws.com");
  EXPECT_EQ(address.region, "eu-west-1");
  EXPECT_EQ(parsed("https://sqs.cn-north-1.amazonaws.com.cn/1/q").region, "cn-north-1");
}

TEST(BrokerAddressTest, AnyHostAndPortQueueUrlIsAccepted) {
  BrokerAddress moto = parsed("http://127.0.0.1:5000/123456789012/results");
  EXPECT_EQ(moto.queue, "http://127.0.0.1:5000/123456789012/results");
  EXPECT_EQ(moto.endpoint, "http://127.0.0.1:5000");
  EXPECT_FALSE(moto.region.has_value());
  EXPECT_EQ(parsed("http://sqs.us-east-1.localhost:4566/000000000000/q").endpoint,
            "http://sqs.us-east-1.localhost:4566");
  EXPECT_EQ(parsed("http://[::1]:9324/queue/q").endpoint, "http://[::1]:9324");
}

// Given a bad address, we should name it, say what is wrong and list the accepted forms.
TEST(BrokerAddressTest, ErrorsNameTheAddressTheFaultAndTheAcceptedForms) {
  const std::string message = error_of("sqlite:");
  EXPECT_NE(message.find("'sqlite:'"), std::string::npos) << message;
  EXPECT_NE(message.find("path after 'sqlite:' is empty"), std::string::npos) << message;
  EXPECT_NE(message.find("accepted forms: sqlite:PATH, sqs://, sqs://NAME"), std::string::npos)
      << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(BrokerAddressTest, RejectsEachMalformedForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "the address is empty"},
      {"queue.db", "no scheme"},
      {"redis://localhost", "unknown scheme 'redis'"},
      {"sqlite://queue.db", "without '//'"},
      {"sqs://bad/name", "has the character '/'"},
      {"sqs://has space", "has the character ' '"},
      {"https://sqs.us-east-1.amazonaws.com/123/", "queue name is empty"},
      {"https://sqs.us-east-1.amazonaws.com/tasks", "exactly /ACCOUNT/NAME"},
      {"https://sqs.us-east-1.amazonaws.com", "no /ACCOUNT/NAME"},
      {"https://host/1/q/extra", "exactly /ACCOUNT/NAME"},
      {"https:///1/q", "no host"},
      {"http://host:0/1/q", "port '0'"},
      {"http://host:99999/1/q", "port '99999'"},
      {"http://host:/1/q", "port after ':' is empty"},
      {"http://host/1/q?Action=x", "no query"},
      {"http://ho st/1/q", "host has the character ' '"},
  };
  for (const auto& [address, reason] : cases) {
    const std::string message = error_of(address);
    EXPECT_NE(message.find(reason), std::string::npos) << address << " -> " << message;
  }
}

TEST(BrokerAddressTest, ControlCharactersAreEscapedInTheError) {
  const std::string message = error_of(std::string_view("sqs://a\nb", 9));
  EXPECT_NE(message.find("\\x0a"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(BrokerAddressTest, OverlongQueueNameIsRefused) {
  const std::string message = error_of("sqs://" + std::string(81, 'q'));
  EXPECT_NE(message.find("81 bytes long"), std::string::npos) << message;
}

}  // namespace
}  // namespace tasker
