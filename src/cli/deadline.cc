#include "cli/deadline.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "cli/common.h"

namespace tasker::cli {

void end_after_timeout(const std::string& command, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds grace, bool resumable) {
  if (timeout.count() <= 0) return;
  // The message is made now, so the thread at the deadline only writes and exits.
  const std::string message = fmt::format(
      "tasker {}: timed out after {:g} s with the queue still not answering; stopped{}\n", command,
      static_cast<double>(timeout.count()) / 1000,
      resumable ? " (run the same command again to resume)" : "");
  std::thread([message, until = timeout + grace] {
    std::this_thread::sleep_for(until);
    std::fflush(stdout);
    std::fputs(message.c_str(), stderr);
    std::fflush(stderr);
    ::_exit(kExitIncomplete);
  }).detach();
}

}  // namespace tasker::cli
