#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tasker/queue.h"

namespace tasker::testing {

/// An in-memory Broker of in-memory queues with SQS's semantics, for unit tests of what sits
/// above the queue. It records calls and can be told to fail some, to force faults.
class FakeBroker : public Broker {
 public:
  struct Stored {
    std::string body;
    MessageAttributes attributes;
    std::chrono::steady_clock::time_point visible_at{};
    std::string receipt;
    int receive_count = 0;
  };

  /// One queue's state, shared by every Queue object opened on it. Guarded by `mutex`.
  struct QueueState {
    std::string name;
    std::mutex mutex;
    std::condition_variable arrived;
    std::map<long, Stored> messages;
    long next_id = 1;
    long next_receipt = 1;
    std::chrono::seconds visibility{30};
    int failing_sends = 0;     ///< The next N send calls fail as a whole.
    int failing_receives = 0;  ///< The next N receive calls fail.
    std::optional<Error> injected_error;  ///< What those failures return (default: a transient one).
    std::string refused_marker;  ///< Bodies containing this are refused for good, entry by entry.
    int extends = 0;           ///< Successful extend calls so far.
    int acks = 0;              ///< Messages deleted so far.
    int sent = 0;              ///< Messages sent so far.
    std::size_t max_stored = 0;  ///< Most messages held at once.
  };

  Status create_queue(const std::string& name, const QueueOptions& options) override;
  Expected<std::unique_ptr<Queue>> open_queue(const std::string& name) override;
  Status delete_queue(const std::string& name) override;
  Status purge_queue(const std::string& name) override;

  /// The state of a queue (created on first use), for assertions and fault injection.
  std::shared_ptr<QueueState> state(const std::string& name);

  /// Bodies currently stored in a queue, visible or not.
  std::vector<std::string> bodies(const std::string& name);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<QueueState>> queues_;
};

/// The error an SQS queue's receive returns at SQS's in-flight limit (HTTP 403 OverLimit, as
/// the SQS client classifies it), for a FakeBroker queue's injected_error.
Error sqs_receive_over_limit();

}  // namespace tasker::testing
