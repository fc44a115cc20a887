#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tasker::docker {

/// Keeps what a bounded memory can of one output stream: its last `capacity` bytes and its last
/// non-empty line (trailing whitespace trimmed), however much is written.
class OutputTail {
 public:
  /// The longest line kept for last_line(); a longer line keeps its first kMaxLineBytes.
  static constexpr std::size_t kMaxLineBytes = 64 * 1024;

  explicit OutputTail(std::size_t capacity = 64 * 1024) : capacity_(capacity) {}

  /// Appends the next bytes of the stream.
  void write(std::string_view bytes);

  /// The last non-empty line, counting an unterminated final line, trailing whitespace trimmed.
  std::string last_line() const;

  /// The last `capacity` bytes written, oldest first.
  std::string tail() const;

  /// Every byte written so far, including those no longer kept.
  std::size_t total_bytes() const { return total_; }

 private:
  void keep_tail(std::string_view bytes);

  std::size_t capacity_;
  std::string ring_;  // Circular once full; ring_start_ is the oldest byte.
  std::size_t ring_start_ = 0;
  std::string partial_line_;  // The unterminated line being written (capped).
  std::string last_line_;     // The last complete non-empty line, trimmed.
  std::size_t total_ = 0;
};

}  // namespace tasker::docker
