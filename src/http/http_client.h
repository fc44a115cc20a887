#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tasker/error.h"

namespace tasker::http {

/// One HTTP request. Everything libcurl-specific stays in http_client.cc.
struct Request {
  std::string method = "GET";
  /// Absolute URL. Over a unix socket the host part is ignored (use http://localhost/...).
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Whole-request limit, including reading the body; zero means none (long streams).
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds connect_timeout{5000};
  /// When set, libcurl signs the request with AWS SigV4: provider string such as
  /// "aws:amz:us-east-1:sqs" and the access key pair.
  std::optional<std::string> aws_sigv4;
  std::optional<std::pair<std::string, std::string>> aws_keys;
  /// When set, body chunks go here as they arrive instead of into Response::body; returning false
  /// aborts the transfer (reported as an error of kind kCancelled, message "aborted").
  std::function<bool(std::string_view chunk)> on_body;
  /// When set, called once the final response's status line and headers have arrived, before
  /// any body; a hijacked stream (Docker's attach) uses it to know the stream is open.
  std::function<void(long status)> on_headers;
  /// When set, polled while the request runs (at least about once a second, even when idle);
  /// returning true aborts it, reported like an on_body abort (kCancelled, "aborted").
  std::function<bool()> abort_if;
  /// When a stop is requested on it (before or during the request), the request is given up at
  /// once, reported like an abort_if abort: what a long poll watches so a stop cuts it short.
  std::stop_token cancel;
};

/// One HTTP response; any status code is a response, not an error.
struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

/// Sends HTTP requests. Abstract so tests can force faults; CurlTransport is the real one.
/// One transport is used by one thread at a time.
class Transport {
 public:
  virtual ~Transport() = default;
  /// Performs the request. Errors are network-level only (connect refused, reset, timeout),
  /// typed kUnavailable, kTransient or kTimeout, or kCancelled when the request's on_body,
  /// abort_if or cancel gave it up.
  virtual Expected<Response> perform(const Request& request) = 0;
};

/// The libcurl transport: keeps one connection cache per instance, so consecutive requests to
/// the same host reuse a connection.
class CurlTransport : public Transport {
 public:
  struct Options {
    /// Send every request over this unix socket (the Docker daemon), instead of TCP.
    std::optional<std::string> unix_socket;
    std::string user_agent = "tasker";
  };

  explicit CurlTransport(Options options);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Expected<Response> perform(const Request& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Percent-encodes a string for a URL query or path component.
std::string url_encode(std::string_view text);

}  // namespace tasker::http
