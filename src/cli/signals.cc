#include "cli/signals.h"

#include <csignal>
#include <thread>

namespace tasker::cli {

void handle_stop_signals(std::function<void(int signal)> on_signal) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // A closed terminal or ssh session (SIGHUP) stops as cleanly as SIGTERM, never with 129 and
  // containers left behind.
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, on_signal = std::move(on_signal)] {
    while (true) {
      int signal = 0;
      if (sigwait(&set, &signal) == 0) on_signal(signal);
    }
  }).detach();
}

}  // namespace tasker::cli
