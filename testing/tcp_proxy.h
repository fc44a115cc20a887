#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tasker::testing {

/// A loopback TCP proxy that fault tests put between a client and a service (moto_server), to
/// break the connections in ways a real network does: reset them, refuse new ones, or stall.
/// One thread owned by the proxy forwards bytes with poll(); the controls may be called from any
/// thread and take effect before they return.
class TcpProxy {
 public:
  /// Listens on 127.0.0.1 at a free port and forwards each connection to 127.0.0.1:target_port.
  explicit TcpProxy(int target_port);
  /// Stops the thread and closes every connection.
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  /// http://127.0.0.1:PORT, for an endpoint variable such as AWS_ENDPOINT_URL.
  std::string url() const;

  /// Closes every open connection with a TCP reset (SO_LINGER 0) on both sides; returns how many
  /// connections were reset.
  int reset_connections();
  /// For `duration` from now, resets each new connection as soon as it is accepted.
  void refuse_new_connections(std::chrono::milliseconds duration);
  /// Stops forwarding: bytes already sent wait in the sockets, new connections are accepted but
  /// get no answer, until resume().
  void pause();
  void resume();

  /// Connections accepted so far (refused ones included).
  int connections_accepted() const;
  /// Connections reset so far, by reset_connections() or refusal.
  int connections_reset() const;
  /// Connections currently forwarding.
  int open_connections() const;

 private:
  struct Connection;
  struct Direction;
  void serve();
  void accept_one();
  bool forward(Direction& direction);
  void wake();

  int listen_fd_ = -1;
  int port_ = 0;
  int target_port_ = 0;
  /// The controls write a byte here to interrupt the thread's poll().
  int wake_pipe_[2] = {-1, -1};

  /// Guards everything below; the thread holds it except while it waits in poll().
  mutable std::mutex mutex_;
  std::condition_variable handled_;
  bool stopping_ = false;
  bool paused_ = false;
  std::chrono::steady_clock::time_point refuse_until_{};
  /// A reset request counts up; the thread sets handled to match once it has reset.
  unsigned resets_requested_ = 0;
  unsigned resets_handled_ = 0;
  int last_reset_count_ = 0;
  int accepted_ = 0;
  int reset_ = 0;
  std::vector<Connection> connections_;

  std::thread thread_;
};

}  // namespace tasker::testing
