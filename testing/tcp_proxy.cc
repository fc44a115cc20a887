#include "testing/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace tasker::testing {
namespace {

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// Closes `fd` so that the peer gets a TCP RST rather than an orderly FIN.
void close_with_reset(int fd) {
  const linger abortive{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  ::close(fd);
}

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  return address;
}

}  // namespace

/// Bytes on their way from one socket of a connection to the other.
struct TcpProxy::Direction {
  int from = -1;
  int to = -1;
  std::string buffer;
  bool eof = false;       ///< `from` has no more to send
  bool shut = false;      ///< the EOF was passed on to `to`
};

/// One proxied connection: the client's socket and ours to the target.
struct TcpProxy::Connection {
  int client = -1;
  int upstream = -1;
  Direction up;    ///< client -> target
  Direction down;  ///< target -> client
  bool done() const { return up.shut && down.shut; }
};

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = loopback(0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::pipe2(wake_pipe_, O_NONBLOCK | O_CLOEXEC) != 0) {
    std::abort();
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  set_nonblocking(listen_fd_);
  thread_ = std::thread([this] { serve(); });
}

TcpProxy::~TcpProxy() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake();
  thread_.join();
  for (const Connection& connection : connections_) {
    close_with_reset(connection.client);
    close_with_reset(connection.upstream);
  }
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::string TcpProxy::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

int TcpProxy::reset_connections() {
  std::unique_lock lock(mutex_);
  const unsigned ticket = ++resets_requested_;
  wake();
  handled_.wait(lock, [&] { return resets_handled_ >= ticket || stopping_; });
  return last_reset_count_;
}

void TcpProxy::refuse_new_connections(std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  refuse_until_ = std::chrono::steady_clock::now() + duration;
}

void TcpProxy::pause() {
  std::lock_guard lock(mutex_);
  paused_ = true;
}

void TcpProxy::resume() {
  {
    std::lock_guard lock(mutex_);
    paused_ = false;
  }
  wake();
}

int TcpProxy::connections_accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

int TcpProxy::connections_reset() const {
  std::lock_guard lock(mutex_);
  return reset_;
}

int TcpProxy::open_connections() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(connections_.size());
}

void TcpProxy::wake() {
  const char byte = 0;
  // A full pipe already holds a wake-up, so a failed write loses nothing.
  [[maybe_unused]] const ssize_t written = ::write(wake_pipe_[1], &byte, 1);
}

void TcpProxy::accept_one() {
  const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  ++accepted_;
  if (std::chrono::steady_clock::now() < refuse_until_) {
    close_with_reset(client);
    ++reset_;
    return;
  }
  const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in target = loopback(target_port_);
  if (upstream < 0 || ::connect(upstream, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
    if (upstream >= 0) ::close(upstream);
    close_with_reset(client);
    ++reset_;
    return;
  }
  const int on = 1;
  for (int fd : {client, upstream}) {
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    set_nonblocking(fd);
  }
  Connection connection;
  connection.client = client;
  connection.upstream = upstream;
  connection.up.from = connection.down.to = client;
  connection.up.to = connection.down.from = upstream;
  connections_.push_back(std::move(connection));
}

bool TcpProxy::forward(Direction& direction) {
  if (!direction.eof && direction.buffer.empty()) {
    char chunk[65536];
    const ssize_t got = ::read(direction.from, chunk, sizeof chunk);
    if (got > 0) {
      direction.buffer.append(chunk, static_cast<std::size_t>(got));
    } else if (got == 0) {
      direction.eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return false;
    }
  }
  if (!direction.buffer.empty()) {
    const ssize_t sent = ::send(direction.to, direction.buffer.data(), direction.buffer.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      direction.buffer.erase(0, static_cast<std::size_t>(sent));
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return false;
    }
  }
  if (direction.eof && direction.buffer.empty() && !direction.shut) {
    ::shutdown(direction.to, SHUT_WR);
    direction.shut = true;
  }
  return true;
}

void TcpProxy::serve() {
  std::unique_lock lock(mutex_);
  std::vector<pollfd> polled;
  while (!stopping_) {
    if (resets_handled_ != resets_requested_) {
      last_reset_count_ = static_cast<int>(connections_.size());
      for (const Connection& connection : connections_) {
        close_with_reset(connection.client);
        close_with_reset(connection.upstream);
      }
      reset_ += last_reset_count_;
      connections_.clear();
      resets_handled_ = resets_requested_;
      handled_.notify_all();
    }

    // Only this thread changes connections_, so the indexes below stay valid across the poll.
    polled.assign({{wake_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}});
    const bool paused = paused_;
    if (!paused) {
      for (const Connection& c : connections_) {
        const auto wants = [](const Direction& reading, const Direction& writing) -> short {
          short events = 0;
          if (!reading.eof && reading.buffer.empty()) events |= POLLIN;
          if (!writing.buffer.empty()) events |= POLLOUT;
          return events;
        };
        polled.push_back({c.client, wants(c.up, c.down), 0});
        polled.push_back({c.upstream, wants(c.down, c.up), 0});
      }
    }
    lock.unlock();
    const int ready = ::poll(polled.data(), polled.size(), 1000);
    lock.lock();
    if (ready <= 0) continue;

    if (polled[0].revents != 0) {
      char drain[256];
      while (::read(wake_pipe_[0], drain, sizeof drain) > 0) {
      }
    }
    if (polled[1].revents != 0) accept_one();
    if (paused) continue;
    std::vector<Connection> kept;
    for (std::size_t i = 0; i < polled.size() / 2 - 1; ++i) {
      Connection& c = connections_[i];
      const short client_events = polled[2 + 2 * i].revents;
      const short upstream_events = polled[3 + 2 * i].revents;
      bool healthy = true;
      if (client_events != 0 || upstream_events != 0) {
        healthy = !((client_events | upstream_events) & POLLERR) && forward(c.up) && forward(c.down);
        // A hang-up on a side that has nothing more to send means the other way is dead too.
        if ((client_events & POLLHUP) && c.up.eof) healthy = healthy && c.down.shut;
        if ((upstream_events & POLLHUP) && c.down.eof) healthy = healthy && c.up.shut;
      }
      if (!healthy) {
        close_with_reset(c.client);
        close_with_reset(c.upstream);
        ++reset_;
      } else if (c.done()) {
        ::close(c.client);
        ::close(c.upstream);
      } else {
        kept.push_back(std::move(c));
      }
    }
    // Connections accepted during this round were appended after the polled ones.
    for (std::size_t i = polled.size() / 2 - 1; i < connections_.size(); ++i) {
      kept.push_back(std::move(connections_[i]));
    }
    connections_.swap(kept);
  }
}

}  // namespace tasker::testing
