#include "agent/publisher.h"

#include <algorithm>

#include "agent/retry_wait.h"
#include "util/log.h"

namespace tasker::agent {

Publisher::Publisher(Broker& broker, const AgentOptions& options, TakenMessages& taken,
                     Counters& counters, StopControl& stop)
    : broker_(broker), options_(options), taken_(taken), counters_(counters), stop_(stop) {}

void Publisher::start() { thread_ = std::thread(&Publisher::send_loop, this); }

void Publisher::publish(TaskResult result, const std::optional<std::string>& reply_queue,
                        std::string receipt, bool vouched) {
  counters_.answered(result);
  Outgoing item{std::move(result), reply_queue.value_or(options_.results_queue),
                std::move(receipt)};
  item.vouched = vouched;
  fit_in_one_message(item);
  {
    MutexLock lock(mu_);
    outbox_.push_back(std::move(item));
  }
  changed_.notify_one();
}

std::size_t Publisher::pending() {
  MutexLock lock(mu_);
  return outbox_.size();
}

void Publisher::finish() {
  {
    MutexLock lock(mu_);
    finishing_ = true;
    finish_deadline_ = Clock::now() + std::max(options_.grace, kLeastPatience);
  }
  changed_.notify_all();
  thread_.join();
}

void Publisher::send_loop() {
  std::vector<Outgoing> due;
  while (take_due(due)) {
    send_and_delete(due);
    due.clear();
  }
}

bool Publisher::take_due(std::vector<Outgoing>& due) {
  MutexLock lock(mu_);
  if (!wait_for_due()) return false;
  linger();
  const auto now = Clock::now();
  for (auto it = outbox_.begin(); it != outbox_.end();) {
    if (it->not_before <= now) {
      due.push_back(std::move(*it));
      it = outbox_.erase(it);
    } else {
      ++it;
    }
  }
  return true;
}

bool Publisher::wait_for_due() {
  while (true) {
    if (finished()) return false;
    if (any_due()) return true;
    changed_.wait_until(mu_, next_look());
  }
}

bool Publisher::finished() {
  if (!finishing_) return false;
  if (!outbox_.empty() && Clock::now() < finish_deadline_ && !stop_.gave_up()) return false;
  if (!outbox_.empty()) {
    log::error(
        "{} results could not be sent before shutdown; their tasks will be delivered again "
        "after the visibility timeout",
        outbox_.size());
  }
  return true;
}

bool Publisher::any_due() {
  const auto now = Clock::now();
  return std::any_of(outbox_.begin(), outbox_.end(),
                     [now](const Outgoing& item) { return item.not_before <= now; });
}

Publisher::Clock::time_point Publisher::next_look() {
  Clock::time_point look = Clock::now() + kLongestSleep;
  for (const auto& item : outbox_) look = std::min(look, item.not_before);
  return look;
}

void Publisher::linger() {
  const Clock::time_point until = Clock::now() + options_.publish_linger;
  while (outbox_.size() < Queue::kMaxBatch && Clock::now() < until) changed_.wait_until(mu_, until);
}

void Publisher::send_and_delete(std::vector<Outgoing>& items) {
  std::map<std::string, std::vector<Outgoing*>> by_destination;
  for (auto& item : items) by_destination[item.destination].push_back(&item);

  std::vector<Outgoing> to_retry;
  std::vector<std::string> answered;
  for (auto& [destination, group] : by_destination) {
    Queue* queue = result_queue(destination);
    // Batches of at most kMaxBatch results and kMaxBodyBytes together, as SQS takes them.
    std::size_t start = 0;
    while (start < group.size()) {
      std::size_t count = 0, bytes = 0;
      while (start + count < group.size() && count < Queue::kMaxBatch) {
        const std::size_t size = message_size(message_of(*group[start + count]));
        if (count > 0 && bytes + size > kMaxBodyBytes) break;
        bytes += size;
        ++count;
      }
      send_batch(queue, destination, std::span(group).subspan(start, count), answered, to_retry);
      start += count;
    }
  }
  taken_.delete_answered(answered);
  if (!to_retry.empty()) retry_later(to_retry);
}

void Publisher::send_batch(Queue* queue, const std::string& destination,
                           std::span<Outgoing* const> batch, std::vector<std::string>& answered,
                           std::vector<Outgoing>& to_retry) {
  std::vector<OutgoingMessage> messages;
  for (const Outgoing* item : batch) messages.push_back(message_of(*item));
  Expected<std::vector<Status>> sent =
      queue != nullptr ? queue->send(messages)
                       : Expected<std::vector<Status>>(Error::unavailable("no results queue"));
  if (!sent) counters_.queue_error(sent.error(), "send results to " + destination);
  if (!sent && !sent.error().transient() && batch.size() > 1) {
    // Refused as a whole (too big together, or one bad entry spoils the call): one at a time,
    // so each result is sent or refused on its own.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      send_batch(queue, destination, batch.subspan(i, 1), answered, to_retry);
    }
    return;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Outgoing& item = *batch[i];
    if (sent && (*sent)[i].ok()) {
      answered.push_back(item.receipt);
      continue;
    }
    const Error error = sent ? (*sent)[i].error() : sent.error();
    if (sent) counters_.queue_error(error, "send result");
    after_failed_send(item, error, queue != nullptr && !error.transient(), to_retry);
  }
}

void Publisher::after_failed_send(Outgoing& item, const Error& error, bool refused_for_good,
                                  std::vector<Outgoing>& to_retry) {
  if (!item.replaced && refused_for_good) {
    log::warn("task {}: the results queue refuses its result: {}", item.result.id, error.message);
    replace_refused(item, "result refused by the results queue: " + error.message);
  } else if (!item.replaced && item.send_attempts + 1 >= kMaxSendAttempts) {
    log::error("task {}: its result could not be sent in {} tries ({}); answering it as failed",
               item.result.id, kMaxSendAttempts, error.message);
    replace_refused(item, "result not sent after " + std::to_string(kMaxSendAttempts) +
                              " tries: " + error.message);
  }
  to_retry.push_back(std::move(item));
}

OutgoingMessage Publisher::message_of(const Outgoing& item) const {
  std::string body = to_json(item.result);
  if (options_.signing_key && item.vouched)
    return options_.signing_key->signed_message(std::move(body));
  return OutgoingMessage(std::move(body));
}

namespace {

// The length of the longest prefix of `text`, at most `n` bytes, that does not cut a UTF-8
// character.
std::size_t utf8_prefix(const std::string& text, std::size_t n) {
  while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

void Publisher::fit_in_one_message(Outgoing& item) const {
  const std::size_t size = message_size(message_of(item));
  if (size <= kMaxBodyBytes) return;
  const std::string payload = std::move(item.result.payload);
  item.result.truncated = true;
  // The message grows with the prefix kept (by 1 to 6 bytes per byte, as JSON escapes it), so
  // the longest prefix that fits is found by bisection.
  std::size_t fits = 0, too_long = payload.size();
  while (too_long - fits > 1) {
    const std::size_t mid = fits + (too_long - fits) / 2;
    item.result.payload = payload.substr(0, utf8_prefix(payload, mid));
    (message_size(message_of(item)) <= kMaxBodyBytes ? fits : too_long) = mid;
  }
  item.result.payload = payload.substr(0, utf8_prefix(payload, fits));
  log::warn("task {}: its result of {} bytes is over the {}-byte message limit; payload cut from "
            "{} to {} bytes (\"truncated\": true)",
            item.result.id, size, kMaxBodyBytes, payload.size(), item.result.payload.size());
}

void Publisher::replace_refused(Outgoing& item, const std::string& reason) {
  counters_.replaced(item.result);
  TaskResult stand_in = TaskResult::failure(item.result.id, "result", reason);
  stand_in.agent = item.result.agent;
  stand_in.attempt = item.result.attempt;
  stand_in.run_id = item.result.run_id;
  stand_in.duration_ms = item.result.duration_ms;
  item.result = std::move(stand_in);
  item.replaced = true;
}

void Publisher::retry_later(std::vector<Outgoing>& items) {
  MutexLock lock(mu_);
  for (auto& item : items) {
    item.not_before = Clock::now() + retry_wait(item.send_attempts++);
    outbox_.push_back(std::move(item));
  }
}

Queue* Publisher::result_queue(const std::string& name) {
  auto it = result_queues_.find(name);
  if (it != result_queues_.end()) return it->second.get();
  auto opened = broker_.open_queue(name);
  if (!opened) {
    counters_.queue_error(opened.error(), "open results queue " + name);
    return nullptr;
  }
  return result_queues_.emplace(name, std::move(*opened)).first->second.get();
}

}  // namespace tasker::agent
