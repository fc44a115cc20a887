#include "queue/queue_rules.h"

#include <fmt/format.h>

#include <cctype>

#include "tasker/queue.h"

namespace tasker {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

constexpr std::size_t kMaxAttributeNameLength = 256;

Status validate_attribute_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAttributeNameLength) {
    return Error::invalid(fmt::format("message attribute name {} must be 1 to {} bytes long",
                                      quote_for_message(name.substr(0, 40)),
                                      kMaxAttributeNameLength));
  }
  for (char c : name) {
    if (!is_name_char(c) && c != '.') {
      return Error::invalid(fmt::format(
          "message attribute name {} has the character {}: use only A-Z a-z 0-9 _ - .",
          quote_for_message(name), quote_for_message(std::string_view(&c, 1))));
    }
  }
  auto starts_with_nocase = [&](std::string_view prefix) {
    if (name.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(name[i])) != prefix[i]) return false;
    }
    return true;
  };
  if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos ||
      starts_with_nocase("aws.") || starts_with_nocase("amazon.")) {
    return Error::invalid(fmt::format(
        "message attribute name {} is reserved or misplaces a period: no leading, trailing or "
        "doubled period, and no AWS. or Amazon. prefix",
        quote_for_message(name)));
  }
  return Status::success();
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

std::size_t message_size(const OutgoingMessage& message) {
  std::size_t size = message.body.size();
  for (const auto& [name, value] : message.attributes) {
    size += name.size() + kAttributeDataType.size() + value.size();
  }
  return size;
}

Status validate_send_batch(const std::vector<OutgoingMessage>& messages) {
  TASKER_TRY(validate_batch_size(messages.size(), "send"));
  std::size_t total = 0;
  for (const OutgoingMessage& message : messages) total += message_size(message);
  if (total > kMaxBodyBytes) {
    return Error::invalid(
        fmt::format("send batch of {} bytes is over the {} byte limit for one batch: send fewer "
                    "messages per call",
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

Status validate_message(const OutgoingMessage& message) {
  TASKER_TRY(validate_body(message.body));
  if (message.attributes.size() > kMaxAttributes) {
    return Error::invalid(fmt::format("message has {} attributes: the limit is {}",
                                      message.attributes.size(), kMaxAttributes));
  }
  for (const auto& [name, value] : message.attributes) {
    TASKER_TRY(validate_attribute_name(name));
    if (value.empty()) {
      return Error::invalid(
          fmt::format("message attribute {} is empty: give it a value", quote_for_message(name)));
    }
  }
  if (const std::size_t size = message_size(message); size > kMaxBodyBytes) {
    return Error::invalid(fmt::format(
        "message of {} bytes (body and attributes) is over the {} byte limit", size,
        kMaxBodyBytes));
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
