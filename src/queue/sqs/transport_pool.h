#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "http/http_client.h"
#include "util/mutex.h"

namespace tasker::sqs {

/// HTTP transports shared by threads: a call borrows one and gives it back, so concurrent calls
/// never share a connection and later calls reuse the kept-alive ones. Thread-safe.
class TransportPool {
 public:
  using Factory = std::function<std::unique_ptr<http::Transport>()>;

  /// A borrowed transport, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(TransportPool& pool, std::unique_ptr<http::Transport> transport)
        : pool_(pool), transport_(std::move(transport)) {}
    ~Lease() { pool_.give_back(std::move(transport_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    http::Transport& operator*() { return *transport_; }
    http::Transport* operator->() { return transport_.get(); }

   private:
    TransportPool& pool_;
    std::unique_ptr<http::Transport> transport_;
  };

  /// Keeps at most `max_idle` transports between calls; more are made when needed.
  explicit TransportPool(Factory factory, std::size_t max_idle = 16)
      : factory_(std::move(factory)), max_idle_(max_idle) {}

  Lease acquire() EXCLUDES(mutex_);

 private:
  void give_back(std::unique_ptr<http::Transport> transport) EXCLUDES(mutex_);

  const Factory factory_;
  const std::size_t max_idle_;
  Mutex mutex_;
  std::vector<std::unique_ptr<http::Transport>> idle_ GUARDED_BY(mutex_);
};

}  // namespace tasker::sqs
