#include "docker/docker_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <thread>

#include "testing/loopback_http_server.h"

namespace tasker::docker {
namespace {

// Given DOCKER_HOST values, we should find the socket or TCP address, or say what is accepted.
TEST(ParseDockerHostTest, UnixTcpAndDefault) {
  auto fallback = parse_docker_host("");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->unix_socket.value_or(""), "/var/run/docker.sock");
  auto unix_socket = parse_docker_host("unix:///tmp/d.sock");
  ASSERT_TRUE(unix_socket);
  EXPECT_EQ(unix_socket->unix_socket.value_or(""), "/tmp/d.sock");
  EXPECT_EQ(unix_socket->base_url, "http://localhost");
  auto tcp = parse_docker_host("tcp://127.0.0.1:2375/");
  ASSERT_TRUE(tcp);
  EXPECT_FALSE(tcp->unix_socket);
  EXPECT_EQ(tcp->base_url, "http://127.0.0.1:2375");
  auto ssh = parse_docker_host("ssh://me@host");
  ASSERT_FALSE(ssh);
  EXPECT_NE(ssh.error().message.find("unix:///PATH or tcp://HOST:PORT"), std::string::npos);
  EXPECT_FALSE(parse_docker_host("unix://relative.sock"));
}

// Given the daemon's version, we should use the lower of it and ours, refusing too old a daemon.
TEST(NegotiateApiVersionTest, PicksTheLowerVersion) {
  EXPECT_EQ(*negotiate_api_version("1.41"), "1.41");
  EXPECT_EQ(*negotiate_api_version("1.50"), std::string(kMaxApiVersion));
  EXPECT_EQ(*negotiate_api_version("2.0"), std::string(kMaxApiVersion));
  EXPECT_FALSE(negotiate_api_version("1.24"));
  EXPECT_FALSE(negotiate_api_version("banana"));
  EXPECT_LT(compare_api_versions("1.9", "1.10"), 0);
  EXPECT_EQ(compare_api_versions("1.41", "1.41"), 0);
}

// A transport that answers from a script and records what it was asked.
class ScriptedTransport : public http::Transport {
 public:
  explicit ScriptedTransport(std::deque<http::Response>* script, std::vector<std::string>* urls)
      : script_(script), urls_(urls) {}
  Expected<http::Response> perform(const http::Request& request) override {
    urls_->push_back(request.method + " " + request.url);
    if (script_->empty()) return Error::unavailable("connection refused");
    http::Response response = script_->front();
    script_->pop_front();
    if (request.on_body) {
      request.on_body(response.body);
      response.body.clear();
    }
    return response;
  }

 private:
  std::deque<http::Response>* script_;
  std::vector<std::string>* urls_;
};

class DockerClientTest : public ::testing::Test {
 protected:
  DockerClient make_client() {
    return DockerClient(*parse_docker_host("unix:///tmp/x.sock"), [this](const Endpoint&) {
      return std::make_unique<ScriptedTransport>(&script_, &urls_);
    });
  }
  void answer(long status, std::string body,
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Response response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    script_.push_back(std::move(response));
  }

  std::deque<http::Response> script_;
  std::vector<std::string> urls_;
};

// Given a daemon on API 1.41, we should send every call under /v1.41 and ping only once.
TEST_F(DockerClientTest, UsesNegotiatedVersionInPaths) {
  auto client = make_client();
  answer(200, "OK", {{"Api-Version", "1.41"}});
  answer(200, R"({"Id":"abc"})");
  answer(204, "");
  ASSERT_EQ(*client.create_container({{"Image", "x"}}), "abc");
  ASSERT_TRUE(client.start_container("abc"));
  ASSERT_EQ(urls_.size(), 3u);
  EXPECT_EQ(urls_[0], "GET http://localhost/_ping");
  EXPECT_EQ(urls_[1], "POST http://localhost/v1.41/containers/create");
  EXPECT_EQ(urls_[2], "POST http://localhost/v1.41/containers/abc/start");
}

// Given a pull whose stream reports an error after a 200, we should fail with that error.
TEST_F(DockerClientTest, ErrorInsidePullStreamFailsThePull) {
  auto client = make_client();
  answer(200, "OK", {{"Api-Version", "1.41"}});
  answer(200,
         "{\"status\":\"Pulling from x\"}\n"
         "{\"errorDetail\":{\"message\":\"unauthorized: authentication required\"},"
         "\"error\":\"unauthorized: authentication required\"}\n");
  auto status = client.pull_image("127.0.0.1:5000/x:1", std::nullopt);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::kDenied);
  EXPECT_EQ(status.error().message,
            "pull 127.0.0.1:5000/x:1: unauthorized: authentication required");
  EXPECT_EQ(urls_[1],
            "POST http://localhost/v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fx&tag=1");
}

// Given a pull refused with a status code, we should type the failure from it.
TEST_F(DockerClientTest, PullStatusCodesAreTyped) {
  auto client = make_client();
  answer(200, "OK", {{"Api-Version", "1.41"}});
  answer(404, "{\"message\":\"manifest for x:1 not found: manifest unknown\"}\n");
  answer(500, "{\"message\":\"Head \\\"http://r/v2/x\\\": no basic auth credentials\"}\n");
  auto missing = client.pull_image("x:1", std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  auto denied = client.pull_image("x:1", std::nullopt);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind, ErrorKind::kDenied);
}

// Given no daemon, we should report it unreachable at its address, as a transient failure.
TEST_F(DockerClientTest, UnreachableDaemonIsUnavailable) {
  auto client = make_client();
  auto status = client.ping();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(status.error().message.rfind("docker daemon unreachable at unix:///tmp/x.sock: ", 0),
            0u);
  EXPECT_TRUE(status.error().transient());
}

// Given a wait the caller gives up (the agent stopping), the client should say so as kCancelled,
// not as a daemon that dropped the connection.
TEST(DockerClientCancelTest, WaitGivenUpByTheCallerIsCancelled) {
  std::atomic<bool> waiting{false};
  std::atomic<bool> released{false};
  testing::LoopbackHttpServer daemon([&](const testing::LoopbackHttpServer::Request& request) {
    if (request.target.find("/wait") == std::string::npos) return std::make_pair(200, "OK");
    waiting = true;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!released && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::make_pair(200, R"({"StatusCode":0})");
  });
  DockerClient client(*parse_docker_host("tcp://" + daemon.url().substr(7)));
  auto exit = client.wait_container("abc", std::chrono::milliseconds(0),
                                    [&waiting] { return waiting.load(); });
  released = true;
  ASSERT_FALSE(exit);
  EXPECT_EQ(exit.error().kind, ErrorKind::kCancelled);
  EXPECT_FALSE(exit.error().transient());
}

}  // namespace
}  // namespace tasker::docker
