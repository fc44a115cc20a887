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

// A proxy in front of a loopback HTTP server that echoes request bodies, and one client.
class TcpProxyFaultTest : public ::testing::Test {
 protected:
  Expected<http::Response> post() {
    http::Request request;
    request.method = "POST";
    request.url = proxy_.url() + "/";
    request.body = "{\"hello\":1}";
    request.timeout = 10s;
    return transport_.perform(request);
  }

  // Pauses the proxy and sends a request from another thread; returns once it is stalled in
  // the proxy.
  std::future<Expected<http::Response>> post_while_paused() {
    proxy_.pause();
    auto stalled = std::async(std::launch::async, [this] { return post(); });
    EXPECT_TRUE(eventually([&] { return proxy_.open_connections() == 1; }, 5s));
    return stalled;
  }

  LoopbackHttpServer server_{[](const LoopbackHttpServer::Request& request) {
    return std::make_pair(200, "echo " + request.body);
  }};
  TcpProxy proxy_{port_of(server_.url())};
  http::CurlTransport transport_{{}};
};

TEST_F(TcpProxyFaultTest, ForwardsRequestsBothWays) {
  for (int i = 0; i < 3; ++i) {
    auto response = post();
    ASSERT_TRUE(response.ok()) << response.error().message;
    EXPECT_EQ(response->body, "echo {\"hello\":1}");
  }
  EXPECT_EQ(server_.requests().size(), 3u);
}

// Given a request stalled in a paused proxy, a reset should fail it at once; after resuming, the
// same client should get through again on a new connection.
TEST_F(TcpProxyFaultTest, ResetFailsTheOpenRequestAndLaterOnesGetThrough) {
  auto stalled = post_while_paused();
  EXPECT_EQ(proxy_.reset_connections(), 1);
  EXPECT_FALSE(stalled.get().ok());
  proxy_.resume();
  auto response = post();
  EXPECT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(proxy_.connections_reset(), 1);
}

TEST_F(TcpProxyFaultTest, RefusesNewConnectionsOnlyWhileTold) {
  proxy_.refuse_new_connections(60s);
  EXPECT_FALSE(post().ok());
  proxy_.refuse_new_connections(0ms);
  auto response = post();
  EXPECT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(TcpProxyFaultTest, PauseHoldsTheAnswerUntilResume) {
  auto held = post_while_paused();
  EXPECT_EQ(held.wait_for(300ms), std::future_status::timeout);
  EXPECT_TRUE(server_.requests().empty());
  proxy_.resume();
  auto response = held.get();
  EXPECT_TRUE(response.ok()) << response.error().message;
}

}  // namespace
}  // namespace tasker::testing
