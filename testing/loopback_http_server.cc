#include "testing/loopback_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <strings.h>

namespace tasker::testing {
namespace {

/// Waits up to 100 ms for `fd` to be readable.
bool readable(int fd) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, 100) > 0;
}

}  // namespace

std::string LoopbackHttpServer::Request::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (::strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return "";
}

LoopbackHttpServer::LoopbackHttpServer(Responder responder) : responder_(std::move(responder)) {
  if (!responder_) responder_ = [](const Request&) { return std::make_pair(200, std::string("{}")); };
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    std::abort();
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  stopping_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::string LoopbackHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<LoopbackHttpServer::Request> LoopbackHttpServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void LoopbackHttpServer::serve() {
  while (!stopping_) {
    if (!readable(listen_fd_)) continue;
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    serve_connection(fd, connections_++);
    ::close(fd);
  }
}

void LoopbackHttpServer::serve_connection(int fd, int connection) {
  std::string buffer;
  while (!stopping_) {
    const auto header_end = buffer.find("\r\n\r\n");
    if (header_end == std::string::npos) {
      if (!readable(fd)) continue;
      char chunk[65536];
      const ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(got));
      continue;
    }
    Request request;
    request.connection = connection;
    std::string head = buffer.substr(0, header_end);
    std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const auto first_space = request_line.find(' ');
    request.method = request_line.substr(0, first_space);
    request.target = request_line.substr(first_space + 1, request_line.rfind(' ') - first_space - 1);
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos
                                                                                 : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      request.headers.emplace_back(line.substr(0, colon), value);
    }
    const std::size_t length = std::strtoul(request.header("Content-Length").c_str(), nullptr, 10);
    while (buffer.size() < header_end + 4 + length) {
      if (stopping_) return;
      if (!readable(fd)) continue;
      char chunk[65536];
      const ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
    request.body = buffer.substr(header_end + 4, length);
    buffer.erase(0, header_end + 4 + length);
    const auto [status, body] = responder_(request);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                 " X\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\n\r\n" + body;
    if (::write(fd, response.data(), response.size()) < 0) return;
  }
}

}  // namespace tasker::testing
