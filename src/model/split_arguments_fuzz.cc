// libFuzzer target: split_arguments must never crash, and quoting each word it returns in single
// quotes and splitting again must give the same words back.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tasker/task.h"

namespace {

std::string single_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto words = tasker::split_arguments(text);
  if (!words.ok()) return 0;
  std::string requoted;
  for (const auto& word : *words) requoted += single_quote(word) + " ";
  auto again = tasker::split_arguments(requoted);
  if (!again.ok() || *again != *words) std::abort();
  return 0;
}
