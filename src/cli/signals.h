#pragma once

#include <functional>

namespace tasker::cli {

/// Turns SIGINT, SIGTERM and SIGHUP into calls of `on_signal` on a dedicated thread (so the handler may
/// lock, log and notify). Call before starting any other thread: the signals are blocked in the
/// calling thread and so in every thread it starts. The watcher thread lives until exit.
void handle_stop_signals(std::function<void(int signal)> on_signal);

}  // namespace tasker::cli
