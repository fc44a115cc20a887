#include "http/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "testing/loopback_http_server.h"

namespace tasker::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A server whose answer waits until the test releases it (at most 10 s), and that says when a
// request has reached it.
class HeldServer {
 public:
  HeldServer()
      : server_([this](const testing::LoopbackHttpServer::Request&) {
          arrived_ = true;
          const auto give_up = steady_clock::now() + std::chrono::seconds(10);
          while (!released_ && steady_clock::now() < give_up) {
            std::this_thread::sleep_for(milliseconds(5));
          }
          return std::make_pair(200, std::string("{}"));
        }) {}
  ~HeldServer() { released_ = true; }

  std::string url() const { return server_.url(); }
  bool arrived() const { return arrived_; }

 private:
  std::atomic<bool> arrived_{false};
  std::atomic<bool> released_{false};
  testing::LoopbackHttpServer server_;
};

// Given a request whose abort_if turns true while it waits for the answer, perform should give it
// up within a few seconds as kCancelled, which is not a failure to retry.
TEST(HttpClientTest, AbortIfGivesUpAWaitingRequestAsCancelled) {
  HeldServer server;
  CurlTransport transport(CurlTransport::Options{});
  Request request;
  request.url = server.url() + "/slow";
  request.timeout = milliseconds(0);
  request.abort_if = [&server] { return server.arrived(); };
  const auto started = steady_clock::now();
  auto response = transport.perform(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kCancelled);
  EXPECT_FALSE(response.error().transient());
  EXPECT_TRUE(server.arrived());
  EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(5));
}

// Given an on_body that refuses the first chunk, perform should stop the transfer as kCancelled.
TEST(HttpClientTest, OnBodyRefusingAChunkCancelsTheTransfer) {
  testing::LoopbackHttpServer server(
      [](const testing::LoopbackHttpServer::Request&) { return std::make_pair(200, "a body"); });
  CurlTransport transport(CurlTransport::Options{});
  Request request;
  request.url = server.url() + "/body";
  int chunks = 0;
  request.on_body = [&chunks](std::string_view) {
    ++chunks;
    return false;
  };
  auto response = transport.perform(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(chunks, 1);
}

// Given a request nobody gives up, the answer should come back whole: cancellation is only ever
// the caller's doing.
TEST(HttpClientTest, RequestNotGivenUpIsAnswered) {
  testing::LoopbackHttpServer server(
      [](const testing::LoopbackHttpServer::Request&) { return std::make_pair(201, "made"); });
  CurlTransport transport(CurlTransport::Options{});
  Request request;
  request.method = "POST";
  request.url = server.url() + "/things";
  request.body = "{}";
  request.abort_if = [] { return false; };
  std::string body;
  request.on_body = [&body](std::string_view chunk) {
    body.append(chunk);
    return true;
  };
  auto response = transport.perform(request);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(body, "made");
}

}  // namespace
}  // namespace tasker::http
