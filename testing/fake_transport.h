#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "http/http_client.h"

namespace tasker::testing {

/// An http::Transport that records every request and answers from a script: a handler when one
/// is set, else the queued answers in order, else kUnavailable ("nothing listens"). Thread-safe.
class FakeTransport : public http::Transport {
 public:
  using Handler = std::function<Expected<http::Response>(const http::Request&)>;

  /// Queues an answer with `status` and `body`.
  void push(long status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::lock_guard lock(mutex_);
    answers_.push_back(http::Response{status, std::move(headers), std::move(body)});
  }
  /// Queues a network-level failure.
  void push_error(Error error) {
    std::lock_guard lock(mutex_);
    answers_.push_back(std::move(error));
  }
  /// Answers every request with `handler` instead of the queue.
  void set_handler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }

  Expected<http::Response> perform(const http::Request& request) override {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    if (handler_) return handler_(request);
    if (answers_.empty()) return Error::unavailable("FakeTransport: nothing listens at " + request.url);
    Expected<http::Response> answer = std::move(answers_.front());
    answers_.pop_front();
    return answer;
  }

  std::vector<http::Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  Handler handler_;
  std::deque<Expected<http::Response>> answers_;
  std::vector<http::Request> requests_;
};

}  // namespace tasker::testing
