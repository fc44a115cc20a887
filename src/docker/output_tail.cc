#include "docker/output_tail.h"

#include <algorithm>
#include <cstring>

namespace tasker::docker {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Appends `bytes` to `line` without letting it grow past the line limit.
void append_capped(std::string& line, std::string_view bytes) {
  if (line.size() >= OutputTail::kMaxLineBytes) return;
  line.append(bytes.substr(0, OutputTail::kMaxLineBytes - line.size()));
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

void OutputTail::keep_tail(std::string_view bytes) {
  if (capacity_ == 0) return;
  if (bytes.size() >= capacity_) {
    ring_.assign(bytes.substr(bytes.size() - capacity_));
    ring_start_ = 0;
    return;
  }
  if (ring_.size() < capacity_) {
    const std::size_t room = capacity_ - ring_.size();
    ring_.append(bytes.substr(0, room));
    bytes.remove_prefix(std::min(room, bytes.size()));
  }
  // The ring is full: overwrite the oldest bytes in at most two copies.
  while (!bytes.empty()) {
    const std::size_t take = std::min(bytes.size(), capacity_ - ring_start_);
    std::memcpy(ring_.data() + ring_start_, bytes.data(), take);
    ring_start_ = (ring_start_ + take) % capacity_;
    bytes.remove_prefix(take);
  }
}

void OutputTail::write(std::string_view bytes) {
  total_ += bytes.size();
  keep_tail(bytes);

  // Only the last non-empty line among the chunk's complete lines can matter, so scan backwards
  // from the chunk's last newline instead of visiting every line.
  const auto newline = bytes.rfind('\n');
  if (newline == std::string_view::npos) {
    append_capped(partial_line_, bytes);
    return;
  }
  const std::string_view complete = trim_right(bytes.substr(0, newline));
  if (!complete.empty()) {
    const auto line_start = complete.rfind('\n');
    if (line_start == std::string_view::npos) {
      append_capped(partial_line_, complete);
      last_line_.assign(trim_right(partial_line_));
    } else {
      last_line_.assign(complete.substr(line_start + 1, kMaxLineBytes));
      last_line_.resize(trim_right(last_line_).size());
    }
  } else if (!trim_right(partial_line_).empty()) {
    last_line_.assign(trim_right(partial_line_));
  }
  partial_line_.clear();
  append_capped(partial_line_, bytes.substr(newline + 1));
}

std::string OutputTail::last_line() const {
  const std::string_view partial = trim_right(partial_line_);
  return partial.empty() ? last_line_ : std::string(partial);
}

std::string OutputTail::tail() const {
  if (ring_.size() < capacity_) return ring_;
  return ring_.substr(ring_start_) + ring_.substr(0, ring_start_);
}

}  // namespace tasker::docker
