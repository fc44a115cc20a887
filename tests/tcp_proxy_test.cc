// The fault-injecting proxy itself, on a loopback HTTP server: it forwards, and each control
// breaks the connection the way it says. Needs no service.
#include "testing/tcp_proxy.h"

#include <gtest/gtest.h>

#include <future>

#include "http/http_client.h"
#include "testing/loopback_http_server.h"
#include "testing/process.h"

namespace tasker::testing {
namespace {

using namespace std::chrono_literals;

int port_of(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

Expected<http::Response> post(http::Transport& transport, const std::string& url) {
  http::Request request;
  request.method = "POST";
  request.url = url + "/";
  request.body = "{\"hello\":1}";
  request.timeout = 10s;
  return transport.perform(request);
}

TEST(TcpProxyFaultTest, ForwardsRequestsBothWays) {
  LoopbackHttpServer server([](const LoopbackHttpServer::Request& request) {
    return std::make_pair(200, "echo " + request.body);
  });
  TcpProxy proxy(port_of(server.url()));
  http::CurlTransport transport({});
  for (int i = 0; i < 3; ++i) {
    auto response = post(transport, proxy.url());
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->body, "echo {\"hello\":1}");
  }
  EXPECT_EQ(server.requests().size(), 3u);
}

// Given a request stalled in a paused proxy, a reset should fail it at once; after resuming, the
// same client should get through again on a new connection.
TEST(TcpProxyFaultTest, ResetFailsTheOpenRequestAndLaterOnesGetThrough) {
  LoopbackHttpServer server;
  TcpProxy proxy(port_of(server.url()));
  http::CurlTransport transport({});
  proxy.pause();
  auto stalled = std::async(std::launch::async, [&] { return post(transport, proxy.url()); });
  ASSERT_TRUE(eventually([&] { return proxy.open_connections() == 1; }, 5s));
  EXPECT_EQ(proxy.reset_connections(), 1);
  auto failed = stalled.get();
  EXPECT_FALSE(failed.ok());
  proxy.resume();
  auto response = post(transport, proxy.url());
  EXPECT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(proxy.connections_reset(), 1);
}

TEST(TcpProxyFaultTest, RefusesNewConnectionsOnlyWhileTold) {
  LoopbackHttpServer server;
  TcpProxy proxy(port_of(server.url()));
  http::CurlTransport transport({});
  proxy.refuse_new_connections(60s);
  EXPECT_FALSE(post(transport, proxy.url()).ok());
  proxy.refuse_new_connections(0ms);
  auto response = post(transport, proxy.url());
  EXPECT_TRUE(response.ok()) << response.error().message;
  EXPECT_TRUE(server.requests().size() == 1u);
}

TEST(TcpProxyFaultTest, PauseHoldsTheAnswerUntilResume) {
  LoopbackHttpServer server;
  TcpProxy proxy(port_of(server.url()));
  http::CurlTransport transport({});
  proxy.pause();
  auto held = std::async(std::launch::async, [&] { return post(transport, proxy.url()); });
  ASSERT_TRUE(eventually([&] { return proxy.open_connections() == 1; }, 5s));
  EXPECT_EQ(held.wait_for(300ms), std::future_status::timeout);
  EXPECT_TRUE(server.requests().empty());
  proxy.resume();
  auto response = held.get();
  EXPECT_TRUE(response.ok()) << response.error().message;
}

}  // namespace
}  // namespace tasker::testing
