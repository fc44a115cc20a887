#include "testing/fake_queue.h"

#include "queue/queue_rules.h"

#include <algorithm>

#include "aws/aws_error.h"

namespace tasker::testing {
namespace {

using Clock = std::chrono::steady_clock;

class FakeQueue : public Queue {
 public:
  explicit FakeQueue(std::shared_ptr<FakeBroker::QueueState> state) : state_(std::move(state)) {}

  const std::string& name() const override { return state_->name; }

  Expected<std::vector<Status>> send(const std::vector<OutgoingMessage>& messages) override {
    std::lock_guard lock(state_->mutex);
    if (state_->failing_sends > 0) {
      --state_->failing_sends;
      return state_->injected_error.value_or(Error::transient_failure("injected send failure"));
    }
    // As SQS: at most kMaxBatch entries of kMaxBodyBytes together, or the whole call is refused.
    if (auto valid = validate_send_batch(messages); !valid) return valid.error();
    std::vector<Status> statuses;
    for (const auto& message : messages) {
      if (!state_->refused_marker.empty() &&
          message.body.find(state_->refused_marker) != std::string::npos) {
        statuses.emplace_back(Error::invalid("body refused by the queue"));
        continue;
      }
      FakeBroker::Stored& stored = state_->messages[state_->next_id++];
      stored.body = message.body;
      stored.attributes = message.attributes;
      ++state_->sent;
      statuses.emplace_back();
    }
    state_->max_stored = std::max(state_->max_stored, state_->messages.size());
    state_->arrived.notify_all();
    return statuses;
  }

  Expected<std::vector<Message>> receive(std::size_t max_messages, std::chrono::milliseconds wait,
                                         std::optional<std::chrono::seconds> visibility,
                                         std::stop_token stop) override {
    std::unique_lock lock(state_->mutex);
    if (state_->failing_receives > 0) {
      --state_->failing_receives;
      return state_->injected_error.value_or(Error::unavailable("injected receive failure"));
    }
    const auto deadline = Clock::now() + wait;
    std::vector<Message> out;
    while (true) {
      const auto now = Clock::now();
      for (auto& [id, stored] : state_->messages) {
        if (out.size() >= max_messages) break;
        if (stored.visible_at > now) continue;
        stored.visible_at = now + visibility.value_or(state_->visibility);
        stored.receipt = std::to_string(id) + "#" + std::to_string(state_->next_receipt++);
        ++stored.receive_count;
        out.push_back(Message{std::to_string(id), stored.receipt, stored.body, stored.receive_count,
                             stored.attributes});
      }
      if (!out.empty() || now >= deadline || stop.stop_requested()) return out;
      // Wake on arrival, or soon enough to notice a visibility expiry.
      state_->arrived.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)));
    }
  }

  Expected<std::vector<Status>> ack(const std::vector<std::string>& receipts) override {
    std::lock_guard lock(state_->mutex);
    std::vector<Status> out;
    for (const auto& receipt : receipts) {
      auto* stored = find(receipt);
      if (stored != nullptr) {
        state_->messages.erase(std::stol(receipt));
        ++state_->acks;
      }
      out.emplace_back();
    }
    return out;
  }

  Status extend(const std::string& receipt, std::chrono::seconds visibility) override {
    std::lock_guard lock(state_->mutex);
    auto* stored = find(receipt);
    if (stored == nullptr) return Error::invalid("stale receipt " + receipt);
    stored->visible_at = Clock::now() + visibility;
    ++state_->extends;
    return Status::success();
  }

  Status release(const std::string& receipt) override {
    std::lock_guard lock(state_->mutex);
    auto* stored = find(receipt);
    if (stored == nullptr) return Error::invalid("stale receipt " + receipt);
    stored->visible_at = Clock::now();
    state_->arrived.notify_all();
    return Status::success();
  }

  Expected<QueueDepth> depth() override {
    std::lock_guard lock(state_->mutex);
    QueueDepth depth;
    const auto now = Clock::now();
    for (const auto& [id, stored] : state_->messages) {
      (stored.visible_at <= now ? depth.visible : depth.in_flight)++;
    }
    return depth;
  }

 private:
  FakeBroker::Stored* find(const std::string& receipt) {
    auto it = state_->messages.find(std::stol(receipt));
    if (it == state_->messages.end() || it->second.receipt != receipt) return nullptr;
    return &it->second;
  }

  std::shared_ptr<FakeBroker::QueueState> state_;
};

}  // namespace

std::shared_ptr<FakeBroker::QueueState> FakeBroker::state(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& state = queues_[name];
  if (!state) {
    state = std::make_shared<QueueState>();
    state->name = name;
  }
  return state;
}

Status FakeBroker::create_queue(const std::string& name, const QueueOptions& options) {
  state(name)->visibility = options.visibility_timeout;
  return Status::success();
}

Expected<std::unique_ptr<Queue>> FakeBroker::open_queue(const std::string& name) {
  {
    std::lock_guard lock(mutex_);
    if (!queues_.count(name)) return Error::not_found("no such queue: " + name);
  }
  return std::unique_ptr<Queue>(std::make_unique<FakeQueue>(state(name)));
}

Status FakeBroker::delete_queue(const std::string& name) {
  std::lock_guard lock(mutex_);
  queues_.erase(name);
  return Status::success();
}

Status FakeBroker::purge_queue(const std::string& name) {
  auto queue = state(name);
  std::lock_guard lock(queue->mutex);
  queue->messages.clear();
  return Status::success();
}

std::vector<std::string> FakeBroker::bodies(const std::string& name) {
  auto queue = state(name);
  std::lock_guard lock(queue->mutex);
  std::vector<std::string> out;
  for (const auto& [id, stored] : queue->messages) out.push_back(stored.body);
  return out;
}

Error sqs_receive_over_limit() {
  const http::Response answer{
      403, {}, R"({"__type":"com.amazonaws.sqs#OverLimit","message":"Too many messages in flight"})"};
  return aws::to_error(aws::parse_service_error(answer), "SQS ReceiveMessage on queue q");
}

}  // namespace tasker::testing
