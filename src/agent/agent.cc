#include "tasker/agent.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "agent/metrics.h"
#include "model/envelope.h"
#include "model/json_util.h"
#include "util/backoff.h"
#include "util/log.h"

namespace tasker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A task taken from the queue and waiting for, or holding, a slot.
struct Job {
  Message message;
  Task task;
};

// A result waiting to be sent; its task message is deleted only after the send succeeded.
struct Outgoing {
  TaskResult result;
  std::string destination;
  std::string receipt;
  int send_attempts = 0;
  Clock::time_point not_before{};
  bool replaced = false;  // the queue refused the original result for good; this is its stand-in
  // Signed with the agent's key (when it has one): false for the answer to a task whose own
  // signature failed, so a master does not take a forger's task id and run id as vouched for.
  bool vouched = true;
};

milliseconds backoff(int attempt) { return capped_backoff(attempt, milliseconds(30000)); }

}  // namespace

struct Agent::State {
  State(Broker& b, std::unique_ptr<Queue> t, ContainerRuntime& r, AgentOptions o, AgentMetrics* m)
      : broker(b), tasks(std::move(t)), runtime(r), options(std::move(o)), metrics(m) {}

  Broker& broker;
  std::unique_ptr<Queue> tasks;
  ContainerRuntime& runtime;
  const AgentOptions options;
  AgentMetrics* metrics;

  // Stop control. `control_mutex` guards the fields below it and backs `control_cv`, which every
  // thread waits on so a stop request wakes it.
  std::mutex control_mutex;
  std::condition_variable control_cv;
  int stop_requests = 0;
  Clock::time_point drain_deadline{};
  std::deque<Job> jobs;         // taken, waiting for a slot
  std::size_t busy = 0;         // jobs queued + running
  bool workers_done = false;    // no more jobs will come
  bool heartbeat_done = false;
  bool runtime_unhealthy = false;
  std::optional<Error> fatal;   // why the agent stopped by itself (a full disk)
  std::atomic<bool> gave_up{false};  // fatal is set: results that cannot be sent are not waited for
  std::stop_source cancel;      // kills running containers (end of grace, second signal)

  // Receipts of messages taken and neither deleted nor handed back: the heartbeat keeps them
  // invisible. Guarded by `inflight_mutex`.
  std::mutex inflight_mutex;
  std::unordered_set<std::string> inflight;

  // Results to send, owned by the publisher thread. Guarded by `outbox_mutex`.
  std::mutex outbox_mutex;
  std::condition_variable outbox_cv;
  std::deque<Outgoing> outbox;
  bool publisher_draining = false;
  Clock::time_point publisher_deadline{};

  // Result queues by name, opened on first use. Only the publisher thread touches it.
  std::map<std::string, std::unique_ptr<Queue>> result_queues;

  std::atomic<std::uint64_t> received{0}, succeeded{0}, failed{0}, released{0}, poison{0},
      refused{0}, unauthenticated{0}, queue_errors{0}, running{0};

  bool stopping() {
    std::lock_guard lock(control_mutex);
    return stop_requests > 0;
  }

  // Waits up to `duration`, returning early when a stop is requested.
  void pause(milliseconds duration) {
    std::unique_lock lock(control_mutex);
    control_cv.wait_for(lock, duration, [&] { return stop_requests > 0; });
  }

  void track(const std::string& receipt) {
    std::lock_guard lock(inflight_mutex);
    inflight.insert(receipt);
  }
  void untrack(const std::string& receipt) {
    std::lock_guard lock(inflight_mutex);
    inflight.erase(receipt);
  }

  void count_queue_error(const Error& error, const char* what) {
    ++queue_errors;
    if (metrics) metrics->on_queue_error();
    log::warn("{}: {}", what, error.message);
    if (error.kind == ErrorKind::kNoSpace) stop_for(error);
  }

  // A full disk under the queue fails every write until someone frees space: rather than retry
  // without end, stop as on a stop request (what runs is handed back or comes back after its
  // visibility timeout) and let run() report why.
  void stop_for(const Error& error) {
    {
      std::lock_guard lock(control_mutex);
      if (fatal) return;
      fatal = error;
      gave_up = true;
      if (stop_requests == 0) {
        stop_requests = 1;
        drain_deadline = Clock::now() + options.grace;
      }
    }
    log::error("stopping: {}", error.message);
    control_cv.notify_all();
  }

  // Hands a message back so another agent (or this one, later) can take it at once.
  void hand_back(const std::string& receipt, std::string_view why) {
    if (auto status = tasks->release(receipt); !status) {
      count_queue_error(status.error(), "release");
    }
    untrack(receipt);
    ++released;
    log::info("handed back a task ({})", why);
  }

  void publish(TaskResult result, std::optional<std::string> reply_queue, std::string receipt,
               bool vouched = true) {
    if (result.is_success) {
      ++succeeded;
    } else {
      ++failed;
    }
    if (metrics) metrics->on_finished(result.is_success, result.duration_ms.value_or(0) / 1000.0);
    Outgoing item{std::move(result), reply_queue.value_or(options.results_queue), std::move(receipt)};
    item.vouched = vouched;
    {
      std::lock_guard lock(outbox_mutex);
      outbox.push_back(std::move(item));
    }
    outbox_cv.notify_one();
  }

  // Answers a message that is not a runnable task with a failed result, when it can be answered,
  // then deletes it; it never comes back.
  void answer_poison(const Message& message, const std::string& error_class, const std::string& reason) {
    ++poison;
    answer_unrun(message, error_class, reason);
  }

  // Answers a valid task that asks for what this agent's policy forbids, before anything is
  // pulled or created; like poison, it is deleted and never retried.
  void answer_refused(const Message& message, const std::string& reason) {
    ++refused;
    if (metrics) metrics->on_refused();
    answer_unrun(message, "policy", reason);
  }

  // Answers a message whose signature does not verify (this agent requires signed tasks): it
  // is not parsed, let alone run. Its body is untrusted, so the answer goes to this agent's
  // results queue, never to a reply queue the body names, and is not signed: a master with the
  // key drops it rather than let a forger's message answer one of its task ids.
  void answer_unauthenticated(const Message& message, const std::string& reason) {
    ++unauthenticated;
    if (metrics) metrics->on_unauthenticated();
    answer_unrun(message, "unauthenticated", reason, /*body_trusted=*/false);
  }

  // Answers a message without running it, then deletes it. The result goes to the reply queue the
  // body names only when the body is trusted.
  void answer_unrun(const Message& message, const std::string& error_class, const std::string& reason,
                    bool body_trusted = true) {
    const Envelope envelope = peek_envelope(message.body);
    if (!envelope.id) {
      log::error("deleting message {}: {} (no readable id to answer; body starts '{}')",
                 message.message_id, reason, json_util::printable(message.body.substr(0, 80)));
      if (auto acked = tasks->ack({message.receipt}); !acked) count_queue_error(acked.error(), "delete");
      untrack(message.receipt);
      return;
    }
    log::warn("task {}: {}", *envelope.id, reason);
    TaskResult result = TaskResult::failure(*envelope.id, error_class, reason);
    result.agent = options.name;
    result.attempt = message.receive_count;
    result.run_id = envelope.run_id;
    publish(std::move(result), body_trusted ? envelope.reply_queue : std::nullopt, message.receipt,
            /*vouched=*/body_trusted);
  }

  // Decides what to do with a message just received: a slot, an answer, or a hand-back. Returns
  // true when the message became a job that holds its slot until it finishes.
  bool dispatch(Message message) {
    ++received;
    if (metrics) metrics->on_received();
    track(message.receipt);
    if (stopping()) {
      hand_back(message.receipt, "agent stopping");
      return false;
    }
    // Signature first: an unauthenticated body is not even parsed.
    if (options.signing_key) {
      if (auto verified = options.signing_key->verify(message); !verified) {
        answer_unauthenticated(message, "task not run: " + verified.error().message);
        return false;
      }
    }
    auto task = parse_task(message.body);
    if (!task) {
      answer_poison(message, "invalid-task", "invalid task: " + task.error().message);
      return false;
    }
    if (auto allowed = check_policy(*task, options.policy); !allowed) {
      answer_refused(message, "refused: " + allowed.error().message);
      return false;
    }
    const int max_attempts = task->max_attempts.value_or(options.default_max_attempts);
    if (message.receive_count > max_attempts) {
      answer_poison(message, "attempts",
                    "gave up after " + std::to_string(max_attempts) +
                        " attempts: every earlier delivery ended without an answer "
                        "(agent killed, or its result lost)");
      return false;
    }
    {
      std::lock_guard lock(control_mutex);
      jobs.push_back(Job{std::move(message), std::move(*task)});
    }
    control_cv.notify_all();
    return true;
  }

  // One slot: runs jobs one at a time until there are no more.
  void work() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(control_mutex);
        control_cv.wait(lock, [&] { return !jobs.empty() || workers_done; });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
        // A receive already waiting when the runtime failed can take a task handed back just
        // before: give it back again rather than run it on a runtime known to be away.
        if (runtime_unhealthy && !cancel.stop_requested()) {
          lock.unlock();
          hand_back(job.message.receipt, "runtime unavailable");
          release_slot();
          continue;
        }
      }
      ++running;
      if (metrics) metrics->set_running(running.load());
      RunContext context{options.name, job.message.receive_count};
      RunOutcome outcome = runtime.run(job.task, context, cancel.get_token());
      --running;
      if (metrics) metrics->set_running(running.load());

      if (outcome.retryable) {
        const bool cancelled = cancel.stop_requested();
        // Marked before the task is handed back, so the poller cannot take it again (and run it
        // on the runtime that just failed) between the two.
        if (!cancelled) {
          std::lock_guard lock(control_mutex);
          runtime_unhealthy = true;
        }
        hand_back(job.message.receipt, cancelled ? "cancelled while stopping"
                                                 : "runtime unavailable: " + outcome.result.payload);
      } else {
        TaskResult& result = outcome.result;
        result.id = job.task.id;
        if (!result.agent) result.agent = options.name;
        if (!result.attempt) result.attempt = job.message.receive_count;
        result.run_id = job.task.run_id;
        log::info("task {}: {} ({} ms){}", job.task.id, result.is_success ? "succeeded" : "failed",
                  result.duration_ms.value_or(0),
                  result.is_success ? "" : ": " + result.payload);
        publish(std::move(result), job.task.reply_queue, job.message.receipt);
      }
      release_slot();
    }
  }

  Queue* result_queue(const std::string& name) {
    auto it = result_queues.find(name);
    if (it != result_queues.end()) return it->second.get();
    auto opened = broker.open_queue(name);
    if (!opened) {
      count_queue_error(opened.error(), ("open results queue " + name).c_str());
      return nullptr;
    }
    return result_queues.emplace(name, std::move(*opened)).first->second.get();
  }

  // Sends results in batches per destination, then deletes the answered task messages in
  // batches. Result first, then delete: a crash between the two repeats a task, never loses one.
  void publish_loop() {
    while (true) {
      std::vector<Outgoing> ready;
      {
        std::unique_lock lock(outbox_mutex);
        auto has_due = [&] {
          const auto now = Clock::now();
          return std::any_of(outbox.begin(), outbox.end(),
                             [&](const Outgoing& o) { return o.not_before <= now; });
        };
        while (true) {
          if (publisher_draining && (outbox.empty() || Clock::now() >= publisher_deadline || gave_up)) {
            if (!outbox.empty()) {
              log::error("{} results could not be sent before shutdown; their tasks will be "
                         "delivered again after the visibility timeout", outbox.size());
            }
            return;
          }
          if (has_due()) break;
          Clock::time_point wake = Clock::now() + milliseconds(500);
          for (const auto& o : outbox) wake = std::min(wake, o.not_before);
          outbox_cv.wait_until(lock, wake);
        }
        // Let a few more results arrive so they share one call.
        outbox_cv.wait_for(lock, options.publish_linger,
                           [&] { return outbox.size() >= Queue::kMaxBatch; });
        const auto now = Clock::now();
        for (auto it = outbox.begin(); it != outbox.end();) {
          if (it->not_before <= now) {
            ready.push_back(std::move(*it));
            it = outbox.erase(it);
          } else {
            ++it;
          }
        }
      }
      send_and_delete(ready);
    }
  }

  void retry_later(std::vector<Outgoing>& failed_items) {
    std::lock_guard lock(outbox_mutex);
    for (auto& item : failed_items) {
      item.not_before = Clock::now() + backoff(item.send_attempts++);
      outbox.push_back(std::move(item));
    }
  }

  // The results queue refuses a result for good (SQS refuses some characters a container may
  // print): it is answered with a failure saying so, rather than retried for ever.
  void replace_refused(Outgoing& item, const Error& error) {
    log::warn("task {}: the results queue refuses its result: {}", item.result.id, error.message);
    if (item.result.is_success) {
      --succeeded;
      ++failed;
    }
    TaskResult stand_in = TaskResult::failure(
        item.result.id, "result", "result refused by the results queue: " + error.message);
    stand_in.agent = item.result.agent;
    stand_in.attempt = item.result.attempt;
    stand_in.run_id = item.result.run_id;
    stand_in.duration_ms = item.result.duration_ms;
    item.result = std::move(stand_in);
    item.replaced = true;
  }

  void send_and_delete(std::vector<Outgoing>& items) {
    std::map<std::string, std::vector<Outgoing*>> by_destination;
    for (auto& item : items) by_destination[item.destination].push_back(&item);

    std::vector<Outgoing> to_retry;
    std::vector<std::string> answered;
    for (auto& [destination, group] : by_destination) {
      Queue* queue = result_queue(destination);
      for (std::size_t start = 0; start < group.size(); start += Queue::kMaxBatch) {
        const std::size_t end = std::min(group.size(), start + Queue::kMaxBatch);
        std::vector<OutgoingMessage> bodies;
        for (std::size_t i = start; i < end; ++i) {
          std::string body = to_json(group[i]->result);
          bodies.push_back(options.signing_key && group[i]->vouched
                               ? options.signing_key->signed_message(std::move(body))
                               : OutgoingMessage(std::move(body)));
        }
        Expected<std::vector<Status>> sent =
            queue != nullptr ? queue->send(bodies)
                             : Expected<std::vector<Status>>(Error::unavailable("no results queue"));
        if (!sent) count_queue_error(sent.error(), ("send results to " + destination).c_str());
        for (std::size_t i = start; i < end; ++i) {
          const bool ok = sent && (*sent)[i - start].ok();
          if (sent && !ok) count_queue_error((*sent)[i - start].error(), "send result");
          if (ok) {
            answered.push_back(group[i]->receipt);
            continue;
          }
          if (sent && !(*sent)[i - start].error().transient() && !group[i]->replaced) {
            replace_refused(*group[i], (*sent)[i - start].error());
          }
          to_retry.push_back(std::move(*group[i]));
        }
      }
    }
    for (std::size_t start = 0; start < answered.size(); start += Queue::kMaxBatch) {
      const std::size_t end = std::min(answered.size(), start + Queue::kMaxBatch);
      std::vector<std::string> receipts(answered.begin() + start, answered.begin() + end);
      // A failed delete only means the task may run again (at-least-once); don't resend.
      if (auto acked = tasks->ack(receipts); !acked) {
        count_queue_error(acked.error(), "delete answered tasks");
      } else {
        for (const auto& status : *acked) {
          if (!status) count_queue_error(status.error(), "delete answered task");
        }
      }
      for (const auto& receipt : receipts) untrack(receipt);
    }
    if (!to_retry.empty()) retry_later(to_retry);
  }

  // Keeps every taken message invisible while its task runs or its result waits to be sent, so
  // a task longer than the visibility timeout is never handed to a second agent.
  void heartbeat_loop() {
    const auto interval = std::max<milliseconds>(
        milliseconds(500), std::chrono::duration_cast<milliseconds>(options.visibility) / 3);
    while (true) {
      {
        std::unique_lock lock(control_mutex);
        control_cv.wait_for(lock, interval, [&] { return heartbeat_done; });
        if (heartbeat_done) return;
      }
      std::vector<std::string> receipts;
      {
        std::lock_guard lock(inflight_mutex);
        receipts.assign(inflight.begin(), inflight.end());
      }
      for (const auto& receipt : receipts) {
        if (auto status = tasks->extend(receipt, options.visibility); !status) {
          count_queue_error(status.error(), "extend visibility");
        }
      }
    }
  }

  // Blocks until a slot is free; false when stopping.
  bool wait_for_free_slot(std::size_t& free) {
    std::unique_lock lock(control_mutex);
    control_cv.wait(lock, [&] { return stop_requests > 0 || busy < options.slots; });
    if (stop_requests > 0) return false;
    free = options.slots - busy;
    return true;
  }

  // Pauses while the runtime is unavailable, probing it with growing waits.
  void wait_for_runtime() {
    int attempt = 0;
    while (!stopping()) {
      {
        std::lock_guard lock(control_mutex);
        if (!runtime_unhealthy) return;
      }
      if (auto ready = runtime.check_ready(); ready) {
        log::info("container runtime is available again; taking tasks");
        std::lock_guard lock(control_mutex);
        runtime_unhealthy = false;
        return;
      } else if (attempt == 0) {
        log::warn("container runtime unavailable, not taking tasks until it answers: {}",
                  ready.error().message);
      }
      pause(backoff(attempt++));
    }
  }

  void poll_loop() {
    int failures = 0;
    while (true) {
      wait_for_runtime();
      std::size_t free = 0;
      if (!wait_for_free_slot(free)) return;
      const std::size_t want = std::min(free, Queue::kMaxBatch);
      auto messages = tasks->receive(want, options.poll_wait, options.visibility);
      if (!messages) {
        count_queue_error(messages.error(), "receive tasks");
        pause(backoff(failures++));
        continue;
      }
      failures = 0;
      if (messages->empty() && options.exit_when_idle && idle()) return;
      {
        std::lock_guard lock(control_mutex);
        busy += messages->size();
      }
      for (auto& message : *messages) {
        if (!dispatch(std::move(message))) release_slot();
      }
    }
  }

  void release_slot() {
    {
      std::lock_guard lock(control_mutex);
      --busy;
    }
    control_cv.notify_all();
  }

  bool idle() {
    std::size_t pending = 0;
    {
      std::lock_guard lock(outbox_mutex);
      pending = outbox.size();
    }
    std::lock_guard lock(control_mutex);
    return busy == 0 && pending == 0;
  }

  // After the poller stops: hand back what has not started, let running tasks finish within the
  // grace period, then cancel them.
  void drain() {
    std::unique_lock lock(control_mutex);
    std::deque<Job> not_started;
    not_started.swap(jobs);
    busy -= not_started.size();
    lock.unlock();
    for (const auto& job : not_started) hand_back(job.message.receipt, "agent stopping");
    lock.lock();
    if (stop_requests > 0 && busy > 0) {
      log::info("stopping: waiting up to {} s for {} running task(s)", options.grace.count(), busy);
      control_cv.wait_until(lock, drain_deadline, [&] { return busy == 0 || stop_requests > 1; });
    }
    if (busy > 0) {
      log::warn("stopping: killing {} task(s) and handing them back", busy);
      lock.unlock();
      cancel.request_stop();
      lock.lock();
    }
    workers_done = true;
    control_cv.notify_all();
  }
};

Agent::Agent(Broker& broker, std::unique_ptr<Queue> tasks, ContainerRuntime& runtime,
             AgentOptions options, AgentMetrics* metrics)
    : state_(std::make_unique<State>(broker, std::move(tasks), runtime, std::move(options), metrics)) {
}

Agent::~Agent() = default;

Status Agent::run() {
  State& s = *state_;
  if (s.options.slots == 0) return Error::invalid("slots must be at least 1");
  if (s.options.results_queue.empty()) return Error::invalid("no results queue given (Q_RESULTS or --results)");
  log::info("agent {} taking tasks from {} with {} slot(s); results to {}", s.options.name,
            s.tasks->name(), s.options.slots, s.options.results_queue);
  log::info("{}", describe(s.options.policy));
  log::info("{}", s.options.signing_key ? "task signing: only tasks signed with this agent's key run"
                                        : "task signing: off (signatures are not checked)");
  {
    std::lock_guard lock(s.control_mutex);
    s.runtime_unhealthy = !s.runtime.check_ready().ok();
  }

  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < s.options.slots; ++i) workers.emplace_back([&s] { s.work(); });
  std::thread publisher([&s] { s.publish_loop(); });
  std::thread heartbeat([&s] { s.heartbeat_loop(); });

  s.poll_loop();
  s.drain();
  for (auto& worker : workers) worker.join();

  {
    std::lock_guard lock(s.outbox_mutex);
    s.publisher_draining = true;
    s.publisher_deadline = Clock::now() + std::max<std::chrono::seconds>(s.options.grace, std::chrono::seconds(10));
  }
  s.outbox_cv.notify_all();
  publisher.join();
  {
    std::lock_guard lock(s.control_mutex);
    s.heartbeat_done = true;
  }
  s.control_cv.notify_all();
  heartbeat.join();
  log::info("agent {} stopped: {} succeeded, {} failed, {} handed back", s.options.name,
            s.succeeded.load(), s.failed.load(), s.released.load());
  std::lock_guard lock(s.control_mutex);
  if (s.fatal) return *s.fatal;
  return Status::success();
}

void Agent::request_stop() {
  State& s = *state_;
  int requests = 0;
  {
    std::lock_guard lock(s.control_mutex);
    requests = ++s.stop_requests;
    if (requests == 1) s.drain_deadline = Clock::now() + s.options.grace;
  }
  if (requests >= 2) {
    log::warn("second stop request: killing running tasks now");
    s.cancel.request_stop();
  }
  s.control_cv.notify_all();
}

AgentStats Agent::stats() const {
  const State& s = *state_;
  AgentStats stats;
  stats.received = s.received;
  stats.succeeded = s.succeeded;
  stats.failed = s.failed;
  stats.released = s.released;
  stats.poison = s.poison;
  stats.refused = s.refused;
  stats.unauthenticated = s.unauthenticated;
  stats.queue_errors = s.queue_errors;
  stats.running = s.running;
  return stats;
}

}  // namespace tasker
