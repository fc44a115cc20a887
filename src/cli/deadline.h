#pragma once

#include <chrono>
#include <string>

namespace tasker::cli {

/// Makes `--timeout` bound the whole command, start-up included: a queue endpoint that accepts
/// connections and never answers would otherwise hold a command through every retry of every
/// call (minutes). When the command is still running `grace` after `timeout`, one line naming
/// `command` goes to standard error and the process ends with kExitIncomplete. Nothing is lost
/// by ending there: results are printed and flushed one by one, journal records are written
/// whole, and what was not deleted from a queue comes again. No effect for a zero timeout.
void end_after_timeout(const std::string& command, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds grace, bool resumable);

}  // namespace tasker::cli
