#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tasker::testing {

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests that must see the bytes a real client sends
/// (the Authorization header libcurl signs) or count its connections. Keeps connections alive;
/// serves one connection at a time on its own thread.
class LoopbackHttpServer {
 public:
  /// One request as it arrived.
  struct Request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// Which accepted connection it came on (0, 1, ...).
    int connection = 0;
    /// The first header of that name (case-insensitive), or "".
    std::string header(const std::string& name) const;
  };
  /// The status and body to answer with.
  using Responder = std::function<std::pair<int, std::string>(const Request&)>;

  /// Listens on a free loopback port; answers 200 "{}" unless `responder` says otherwise.
  explicit LoopbackHttpServer(Responder responder = {});
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  /// http://127.0.0.1:PORT
  std::string url() const;
  std::vector<Request> requests() const;
  int connections() const { return connections_.load(); }

 private:
  void serve();
  void serve_connection(int fd, int connection);

  Responder responder_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  /// Guards requests_.
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace tasker::testing
