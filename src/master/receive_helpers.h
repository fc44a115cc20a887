#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tasker/queue.h"
#include "util/mutex.h"
#include "util/thread_annotations.h"

namespace tasker {

/// Helps the master's receive loop keep up with results over a network with latency, where one
/// call at a time caps it (about 230 results/s with 20 ms calls: a receive and a delete per ten).
/// Helper threads delete answered results in batches, and hand other runs' results back, off the
/// loop; and while the loop's own
/// receives come back full (a backlog), they receive more with short polls, so several calls are
/// in flight. The loop keeps the one long poll, and helpers make only short calls, so a run still
/// ends as soon as its last result is in.
class ReceiveHelpers {
 public:
  /// `helpers` threads (none: the loop does everything itself, as on SQLite).
  ReceiveHelpers(Queue& results, std::size_t helpers);
  /// Stops the helpers, deleting what was handed over (see finish()).
  ~ReceiveHelpers();
  ReceiveHelpers(const ReceiveHelpers&) = delete;
  ReceiveHelpers& operator=(const ReceiveHelpers&) = delete;

  /// Whether the loop's last receive came back full: helpers receive while it did.
  void set_backlog(bool backlog) EXCLUDES(mu_);
  /// A batch a helper received. While helpers are receiving (a backlog) it waits up to `wait`
  /// for one: nullopt with `busy` set means that ran out (ask again); nullopt with `busy` clear
  /// means no batch is waiting or on its way, so the loop polls the queue itself.
  std::optional<std::vector<Message>> take(std::chrono::milliseconds wait, bool& busy) EXCLUDES(mu_);
  /// Deletes these results soon, in batches (at once without helpers, or once they stopped). A
  /// failed delete is logged: the result comes again and is dropped as a duplicate.
  void delete_later(std::vector<std::string> receipts) EXCLUDES(mu_);
  /// Makes this (another run's) result visible again `visible_in` from now, soon (at once without
  /// helpers, or once they stopped), so its own master gets it.
  void leave_later(std::string receipt, std::chrono::seconds visible_in) EXCLUDES(mu_);
  /// Stops the helpers once they finished their calls, deletes what is still to delete, and
  /// returns the batches they received that the loop did not take, for the loop to deal with.
  std::vector<std::vector<Message>> finish() EXCLUDES(mu_);

 private:
  using Leave = std::pair<std::string, std::chrono::seconds>;

  void serve() EXCLUDES(mu_);
  bool has_work() const REQUIRES(mu_);
  bool on_their_way() const REQUIRES(mu_);
  void delete_next() REQUIRES(mu_);
  void leave_next() REQUIRES(mu_);
  void receive_more() REQUIRES(mu_);
  void delete_now(const std::vector<std::string>& receipts);
  void leave_now(const std::string& receipt, std::chrono::seconds visible_in);

  Queue& results_;
  const std::size_t helpers_;
  Mutex mu_;
  CondVar changed_;
  std::deque<std::string> to_delete_ GUARDED_BY(mu_);
  std::deque<Leave> to_leave_ GUARDED_BY(mu_);
  std::deque<std::vector<Message>> received_ GUARDED_BY(mu_);
  std::size_t receiving_ GUARDED_BY(mu_) = 0;  // helpers in a receive call
  bool backlog_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // the constructing thread's
};

}  // namespace tasker
