#include "http/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stop_token>
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

// Given a request waiting for its answer and a stop on its cancel token, perform should give it
// up at once as kCancelled (not at libcurl's next idle tick, up to a second later), and the same
// transport should then serve requests as before, cancellable or not.
TEST(HttpClientTest, CancelGivesUpAWaitingRequestAtOnce) {
  HeldServer server;
  CurlTransport transport(CurlTransport::Options{});
  Request request;
  request.url = server.url() + "/slow";
  request.timeout = milliseconds(0);
  std::stop_source stop;
  request.cancel = stop.get_token();
  std::chrono::steady_clock::time_point stopped_at;
  std::thread stopper([&] {
    while (!server.arrived()) std::this_thread::sleep_for(milliseconds(2));
    stopped_at = steady_clock::now();
    stop.request_stop();
  });
  auto response = transport.perform(request);
  const auto took = steady_clock::now() - stopped_at;
  stopper.join();
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().kind, ErrorKind::kCancelled);
  EXPECT_LT(took, milliseconds(700)) << "the stop waited for libcurl's idle tick";

  testing::LoopbackHttpServer answering(
      [](const testing::LoopbackHttpServer::Request&) { return std::make_pair(200, "fine"); });
  Request again;
  again.url = answering.url() + "/again";
  std::stop_source unused;
  again.cancel = unused.get_token();
  auto cancellable = transport.perform(again);
  ASSERT_TRUE(cancellable.ok()) << cancellable.error().message;
  EXPECT_EQ(cancellable->body, "fine");
  again.cancel = {};
  auto plain = transport.perform(again);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->body, "fine");
  // A token already stopped gives the request up before it is sent.
  again.cancel = stop.get_token();
  auto refused = transport.perform(again);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kCancelled);
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
