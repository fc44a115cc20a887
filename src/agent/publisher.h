#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "agent/counters.h"
#include "agent/stop_control.h"
#include "agent/taken_messages.h"
#include "tasker/agent.h"
#include "tasker/queue.h"
#include "tasker/result.h"
#include "util/mutex.h"

namespace tasker::agent {

/// The outbox, on a thread of its own: results wait here until they are sent, in batches per
/// destination queue, and only then are the task messages they answer deleted, in batches. Result
/// first, then delete: a crash between the two repeats a task, never loses one. A result too big
/// for one message has its payload cut to fit (`"truncated": true`); batches hold at most
/// Queue::kMaxBatch results and kMaxBodyBytes together. A failed send is retried with growing
/// waits; a batch the queue refuses as a whole is sent again one result per call; a result the
/// queue refuses for good, or cannot take after kMaxSendAttempts tries, is replaced by a failure
/// that says so.
class Publisher {
 public:
  Publisher(Broker& broker, const AgentOptions& options, TakenMessages& taken, Counters& counters,
            StopControl& stop);
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  /// Starts the sending thread.
  void start();

  /// Queues `result` for the task's `reply_queue` (else the results queue); the message
  /// `receipt` is deleted once it is sent. `vouched` false: sent unsigned, as the answer to a
  /// message whose own signature failed, so a master does not take a forger's ids as vouched for.
  void publish(TaskResult result, const std::optional<std::string>& reply_queue,
               std::string receipt, bool vouched = true) EXCLUDES(mu_);

  /// Results waiting to be sent.
  std::size_t pending() EXCLUDES(mu_);

  /// Sends what is left within the grace period (at least kLeastPatience; not at all once the
  /// agent gave up), then stops the thread. What is still unsent is delivered again after its
  /// visibility timeout.
  void finish() EXCLUDES(mu_);

 private:
  using Clock = std::chrono::steady_clock;

  /// The shortest time finish() gives the results still waiting, even with no grace period.
  static constexpr std::chrono::seconds kLeastPatience{10};
  /// The longest the thread sleeps between two looks at the outbox.
  static constexpr std::chrono::milliseconds kLongestSleep{500};
  /// Sends of one result that may fail before it is replaced by a failure saying why (with the
  /// growing waits between them, several minutes).
  static constexpr int kMaxSendAttempts = 12;

  /// A result waiting to be sent; its task message is deleted only after the send succeeded.
  struct Outgoing {
    TaskResult result;
    std::string destination;
    std::string receipt;
    int send_attempts = 0;
    Clock::time_point not_before{};
    bool replaced = false;  // the queue refused the original result for good; this is its stand-in
    bool vouched = true;    // signed with the agent's key, when it has one
  };

  /// The thread: takes what is due, sends it, deletes what it answers, until finished.
  void send_loop();
  /// Waits until results are due, lets a few more arrive so they share a call, and moves every
  /// due result into `due`. False once finish() asked and nothing more will be sent.
  bool take_due(std::vector<Outgoing>& due) EXCLUDES(mu_);
  /// Waits until a result is due; false when finishing is done.
  bool wait_for_due() REQUIRES(mu_);
  bool finished() REQUIRES(mu_);
  bool any_due() REQUIRES(mu_);
  Clock::time_point next_look() REQUIRES(mu_);
  /// Waits up to publish_linger while the outbox holds less than a batch.
  void linger() REQUIRES(mu_);

  /// Sends `items` to their destinations, deletes the tasks answered, queues the rest again.
  void send_and_delete(std::vector<Outgoing>& items);
  /// Sends one batch to `queue` (null: it could not be opened); what was sent goes to `answered`,
  /// the rest to `to_retry`.
  void send_batch(Queue* queue, const std::string& destination, std::span<Outgoing* const> batch,
                  std::vector<std::string>& answered, std::vector<Outgoing>& to_retry);
  /// The message that carries an item's result, signed when the agent has a key and vouches.
  OutgoingMessage message_of(const Outgoing& item) const;
  /// Cuts the payload of a result too big for one message to the longest prefix that fits.
  void fit_in_one_message(Outgoing& item) const;
  /// The results queue refuses a result for good (SQS refuses some characters a container may
  /// print), or it could not be sent in kMaxSendAttempts tries: it is answered with a failure
  /// giving `reason`, rather than retried for ever.
  void replace_refused(Outgoing& item, const std::string& reason);
  /// The send of `item` failed: replaced by a failure when the queue refused it for good or it
  /// used its attempts, then queued to be tried again.
  void after_failed_send(Outgoing& item, const Error& error, bool refused_for_good,
                         std::vector<Outgoing>& to_retry);
  void retry_later(std::vector<Outgoing>& items) EXCLUDES(mu_);
  /// The queue named `name`, opened on first use; null (the error counted) when it cannot be.
  Queue* result_queue(const std::string& name);

  Broker& broker_;
  const AgentOptions& options_;
  TakenMessages& taken_;
  Counters& counters_;
  StopControl& stop_;

  Mutex mu_;
  CondVar changed_;  // a result queued, or finish() called
  std::deque<Outgoing> outbox_ GUARDED_BY(mu_);
  bool finishing_ GUARDED_BY(mu_) = false;
  Clock::time_point finish_deadline_ GUARDED_BY(mu_){};

  std::map<std::string, std::unique_ptr<Queue>> result_queues_;  // the sending thread's only
  std::thread thread_;
};

}  // namespace tasker::agent
