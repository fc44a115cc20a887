#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "docker/log_stream.h"

namespace {

// What a decode produced: each stream's bytes, and whether the input was well formed.
struct Decoded {
  std::array<std::string, 4> streams;
  bool ok = true;
};

Decoded decode(std::string_view first, std::string_view second) {
  Decoded decoded;
  tasker::docker::LogStreamDecoder decoder(
      [&decoded](tasker::docker::StreamKind stream, std::string_view bytes) {
        decoded.streams.at(static_cast<std::size_t>(stream)).append(bytes);
      });
  decoded.ok = static_cast<bool>(decoder.feed(first));
  if (decoded.ok) decoded.ok = static_cast<bool>(decoder.feed(second));
  return decoded;
}

}  // namespace

// Decodes the input whole and cut in two where its first byte says: both must give the same
// bytes on the same streams and the same verdict, and nothing may crash.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t cut = input.empty() ? 0 : data[0] % (input.size() + 1);
  const Decoded whole = decode(input, {});
  const Decoded split = decode(input.substr(0, cut), input.substr(cut));
  if (whole.ok != split.ok || whole.streams != split.streams) std::abort();
  return 0;
}
