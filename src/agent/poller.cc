#include "agent/poller.h"

#include <algorithm>

#include "agent/retry_wait.h"
#include "model/envelope.h"
#include "model/json_util.h"
#include "tasker/policy.h"
#include "util/log.h"

namespace tasker::agent {

Poller::Poller(const AgentOptions& options, TakenMessages& taken, Slots& slots,
               RuntimeHealth& health, Publisher& publisher, Counters& counters, StopControl& stop)
    : options_(options),
      taken_(taken),
      slots_(slots),
      health_(health),
      publisher_(publisher),
      counters_(counters),
      stop_(stop) {}

void Poller::run() {
  int failures = 0;
  while (true) {
    health_.wait_until_back();
    const std::size_t free = slots_.wait_for_free();
    if (free == 0) return;
    auto messages = taken_.receive(std::min(free, Queue::kMaxBatch), options_.poll_wait,
                                   options_.visibility, stop_.stop_token());
    if (!messages) {
      counters_.queue_error(messages.error(), "receive tasks");
      stop_.pause(retry_wait(failures++));
      continue;
    }
    failures = 0;
    counters_.polled();
    if (messages->empty() && options_.exit_when_idle && idle()) return;
    slots_.reserve(messages->size());
    for (auto& message : *messages) {
      if (!dispatch(std::move(message))) slots_.release();
    }
  }
}

bool Poller::idle() {
  const std::size_t unsent = publisher_.pending();
  return slots_.idle() && unsent == 0;
}

bool Poller::dispatch(Message message) {
  counters_.received();
  taken_.hold(message.receipt);
  if (stop_.stopping()) {
    taken_.hand_back(message.receipt, "agent stopping");
    return false;
  }
  std::optional<Task> task = runnable_task(message);
  if (!task) return false;
  slots_.run(Job{std::move(message), std::move(*task)});
  return true;
}

std::optional<Task> Poller::runnable_task(const Message& message) {
  if (options_.signing_key) {
    if (auto verified = options_.signing_key->verify(message); !verified) {
      answer_unauthenticated(message, "task not run: " + verified.error().message);
      return std::nullopt;
    }
  }
  auto task = parse_task(message.body);
  if (!task) {
    answer_poison(message, "invalid-task", "invalid task: " + task.error().message);
    return std::nullopt;
  }
  if (auto allowed = check_policy(*task, options_.policy); !allowed) {
    answer_refused(message, "refused: " + allowed.error().message);
    return std::nullopt;
  }
  const int max_attempts = task->max_attempts.value_or(options_.default_max_attempts);
  if (message.receive_count > max_attempts) {
    answer_poison(message, "attempts",
                  "gave up after " + std::to_string(max_attempts) +
                      " attempts: every earlier delivery ended without an answer "
                      "(agent killed, or its result lost)");
    return std::nullopt;
  }
  return std::move(*task);
}

void Poller::answer_poison(const Message& message, const std::string& error_class,
                           const std::string& reason) {
  counters_.poison();
  answer_unrun(message, error_class, reason);
}

void Poller::answer_refused(const Message& message, const std::string& reason) {
  counters_.refused();
  answer_unrun(message, "policy", reason);
}

// Its body is untrusted, so the answer goes to this agent's results queue, never to a reply queue
// the body names, and is not signed: a master with the key drops it rather than let a forger's
// message answer one of its task ids.
void Poller::answer_unauthenticated(const Message& message, const std::string& reason) {
  counters_.unauthenticated();
  answer_unrun(message, "unauthenticated", reason, /*body_trusted=*/false);
}

void Poller::answer_unrun(const Message& message, const std::string& error_class,
                          const std::string& reason, bool body_trusted) {
  const Envelope envelope = peek_envelope(message.body);
  if (!envelope.id) {
    log::error("deleting message {}: {} (no readable id to answer; body starts '{}')",
               message.message_id, reason, json_util::printable(message.body.substr(0, 80)));
    taken_.drop(message.receipt);
    return;
  }
  log::warn("task {}: {}", *envelope.id, reason);
  TaskResult result = TaskResult::failure(*envelope.id, error_class, reason);
  result.agent = options_.name;
  result.attempt = message.receive_count;
  result.run_id = envelope.run_id;
  publisher_.publish(std::move(result), body_trusted ? envelope.reply_queue : std::nullopt,
                     message.receipt, /*vouched=*/body_trusted);
}

}  // namespace tasker::agent
