#include "queue/queue_rules.h"

#include <fmt/format.h>

#include "tasker/queue.h"

namespace tasker {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string quote_for_message(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      quoted += fmt::format("\\x{:02x}", byte);
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return quoted;
}

Status validate_queue_name(std::string_view name) {
  if (name.empty()) return Error::invalid("queue name is empty: give 1-80 of A-Z a-z 0-9 - _");
  if (name.size() > kMaxQueueNameLength) {
    return Error::invalid(fmt::format("queue name {} is {} bytes long: the limit is {}",
                                      quote_for_message(name.substr(0, 40)) + "...", name.size(),
                                      kMaxQueueNameLength));
  }
  std::string_view stem = name;
  if (stem.ends_with(".fifo")) stem.remove_suffix(5);
  if (stem.empty()) return Error::invalid("queue name '.fifo' needs a name before the suffix");
  for (char c : stem) {
    if (!is_name_char(c)) {
      return Error::invalid(fmt::format(
          "queue name {} has the character {}: use only A-Z a-z 0-9 - _ (and a .fifo suffix)",
          quote_for_message(name), quote_for_message(std::string_view(&c, 1))));
    }
  }
  return Status::success();
}

Status validate_visibility(std::chrono::seconds visibility) {
  if (visibility.count() < 0 || visibility > kMaxVisibility) {
    return Error::invalid(fmt::format("visibility timeout {} s is out of range: give 0 to {} s",
                                      visibility.count(), kMaxVisibility.count()));
  }
  return Status::success();
}

Status validate_receive(std::size_t max_messages, std::chrono::milliseconds wait) {
  if (max_messages < 1 || max_messages > Queue::kMaxBatch) {
    return Error::invalid(
        fmt::format("receive of {} messages: ask for 1 to {}", max_messages, Queue::kMaxBatch));
  }
  if (wait.count() < 0 || wait > kMaxReceiveWait) {
    return Error::invalid(fmt::format("receive wait of {} ms is out of range: give 0 to {} ms",
                                      wait.count(), kMaxReceiveWait.count()));
  }
  return Status::success();
}

Status validate_batch_size(std::size_t size, std::string_view what) {
  if (size < 1 || size > Queue::kMaxBatch) {
    return Error::invalid(
        fmt::format("{} of {} entries: give 1 to {} per call", what, size, Queue::kMaxBatch));
  }
  return Status::success();
}

Status validate_send_batch(const std::vector<std::string>& bodies) {
  TASKER_TRY(validate_batch_size(bodies.size(), "send"));
  std::size_t total = 0;
  for (const std::string& body : bodies) total += body.size();
  if (total > kMaxBodyBytes) {
    return Error::invalid(
        fmt::format("send batch of {} bytes is over the {} byte limit for one batch: send fewer "
                    "bodies per call",
                    total, kMaxBodyBytes));
  }
  return Status::success();
}

Status validate_body(std::string_view body) {
  if (body.empty()) return Error::invalid("message body is empty: a body needs at least 1 byte");
  if (body.size() > kMaxBodyBytes) {
    return Error::invalid(fmt::format("message body of {} bytes is over the {} byte limit",
                                      body.size(), kMaxBodyBytes));
  }
  return Status::success();
}

Status validate_max_receive_count(int count) {
  if (count < 1 || count > 1000) {
    return Error::invalid(
        fmt::format("max receive count {} is out of range: give 1 to 1000", count));
  }
  return Status::success();
}

}  // namespace tasker
