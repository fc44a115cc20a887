#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "agent/counters.h"
#include "tasker/queue.h"
#include "util/mutex.h"

namespace tasker::agent {

/// The tasks queue as the agent holds it: the messages taken and neither deleted nor handed back
/// (their receipts, which the heartbeat keeps invisible), and the calls that take, keep and let
/// go of them. A failed call is counted; what it was about stays at-least-once (a message not
/// deleted comes back, one not extended may go to another agent).
class TakenMessages {
 public:
  TakenMessages(std::unique_ptr<Queue> tasks, Counters& counters);
  TakenMessages(const TakenMessages&) = delete;
  TakenMessages& operator=(const TakenMessages&) = delete;

  /// The tasks queue's name.
  const std::string& queue_name() const { return tasks_->name(); }

  /// Receives up to `max_messages`, each invisible for `visibility`; not yet held. A stop on
  /// `stop` ends the wait at once.
  Expected<std::vector<Message>> receive(std::size_t max_messages, std::chrono::milliseconds wait,
                                         std::chrono::seconds visibility, std::stop_token stop);

  /// Holds a message just received: from now on the heartbeat keeps it invisible.
  void hold(const std::string& receipt) EXCLUDES(mu_);

  /// Hands a message back so another agent (or this one, later) can take it at once; `why` is
  /// logged.
  void hand_back(const std::string& receipt, std::string_view why) EXCLUDES(mu_);

  /// Deletes a message that cannot be answered (no readable id).
  void drop(const std::string& receipt) EXCLUDES(mu_);

  /// Deletes the messages whose results were sent, in batches. A failed delete only means the
  /// task may run again (at-least-once): nothing is resent.
  void delete_answered(const std::vector<std::string>& receipts) EXCLUDES(mu_);

  /// Makes every held message invisible for `visibility` from now.
  void extend_all(std::chrono::seconds visibility) EXCLUDES(mu_);

 private:
  void let_go(const std::string& receipt) EXCLUDES(mu_);

  const std::unique_ptr<Queue> tasks_;
  Counters& counters_;
  Mutex mu_;
  std::unordered_set<std::string> held_ GUARDED_BY(mu_);
};

}  // namespace tasker::agent
