// libFuzzer target: parse_task must never crash, and a task it accepts must survive a round trip
// through to_json unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tasker/result.h"
#include "tasker/task.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto task = tasker::parse_task(text); task.ok()) {
    const std::string wire = tasker::to_json(*task);
    auto again = tasker::parse_task(wire);
    if (!again.ok() || tasker::to_json(*again) != wire) std::abort();
  }
  if (auto result = tasker::parse_result(text); result.ok()) {
    const std::string wire = tasker::to_json(*result);
    auto again = tasker::parse_result(wire);
    if (!again.ok() || tasker::to_json(*again) != wire) std::abort();
  }
  return 0;
}
