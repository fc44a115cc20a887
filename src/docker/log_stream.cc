#include "docker/log_stream.h"

#include <algorithm>
#include <string>

namespace tasker::docker {

Status LogStreamDecoder::parse_header() {
  const unsigned char kind = header_[0];
  if (kind > 3 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0) {
    failed_ = true;
    return Error::internal("docker stream: malformed frame header (stream byte " +
                           std::to_string(kind) + "); was the container created with a TTY?");
  }
  stream_ = static_cast<StreamKind>(kind);
  payload_left_ = (std::uint32_t{header_[4]} << 24) | (std::uint32_t{header_[5]} << 16) |
                  (std::uint32_t{header_[6]} << 8) | std::uint32_t{header_[7]};
  header_filled_ = 0;
  return Status::success();
}

Status LogStreamDecoder::feed(std::string_view bytes) {
  if (failed_)
    return Error::internal("docker stream: malformed frame header earlier in the stream");
  while (!bytes.empty()) {
    if (payload_left_ > 0) {
      const std::size_t take = std::min<std::size_t>(payload_left_, bytes.size());
      sink_(stream_, bytes.substr(0, take));
      payload_left_ -= static_cast<std::uint32_t>(take);
      bytes.remove_prefix(take);
      continue;
    }
    const std::size_t take = std::min(header_.size() - header_filled_, bytes.size());
    std::copy_n(bytes.data(), take, header_.data() + header_filled_);
    header_filled_ += take;
    bytes.remove_prefix(take);
    if (header_filled_ == header_.size()) TASKER_TRY(parse_header());
  }
  return Status::success();
}

}  // namespace tasker::docker
