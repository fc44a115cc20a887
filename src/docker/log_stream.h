#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "tasker/error.h"

namespace tasker::docker {

/// Which stream a frame of Docker's multiplexed attach/logs stream belongs to.
enum class StreamKind : std::uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kSystemError = 3 };

/// Decodes Docker's multiplexed stream (an 8-byte header — stream byte, three zero bytes, a
/// big-endian payload length — then the payload) incrementally: bytes may arrive in chunks cut
/// anywhere, and payloads are handed on as they arrive without being buffered whole.
class LogStreamDecoder {
 public:
  /// Receives each piece of payload with its stream; one frame may come in several pieces.
  using Sink = std::function<void(StreamKind stream, std::string_view data)>;

  explicit LogStreamDecoder(Sink sink) : sink_(std::move(sink)) {}

  /// Feeds the next bytes. A malformed header is an error, and every later call repeats it.
  Status feed(std::string_view bytes);

  /// True when the input ended between frames (not inside a header or payload).
  bool at_frame_boundary() const { return header_filled_ == 0 && payload_left_ == 0; }

 private:
  Status parse_header();

  Sink sink_;
  std::array<unsigned char, 8> header_{};
  std::size_t header_filled_ = 0;
  std::uint32_t payload_left_ = 0;
  StreamKind stream_ = StreamKind::kStdout;
  bool failed_ = false;
};

}  // namespace tasker::docker
