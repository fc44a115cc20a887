#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tasker/error.h"

namespace tasker {

/// The outcome of one task: docker-tasker's `{"id","isSuccess","payload"}` plus optional detail.
struct TaskResult {
  std::string id;
  bool is_success = false;
  /// On success the last non-empty stdout line; on failure a one-line reason a person can act on.
  std::string payload;

  std::optional<int> exit_code;
  /// A short failure class: exit, timeout, oom, image, pull, docker, invalid-task, policy, ...
  std::optional<std::string> error;
  std::optional<std::int64_t> duration_ms;
  /// When the task began to run (pull, create, start), in milliseconds since the Unix epoch; with
  /// duration_ms it places the task on a timeline (`tasker report`).
  std::optional<std::int64_t> started_at_ms;
  std::optional<int> attempt;
  std::optional<std::string> agent;
  std::optional<std::string> run_id;
  /// The payload was cut so that the result fits in one queue message (kMaxBodyBytes).
  std::optional<bool> truncated;

  /// Unknown fields as a JSON object text ("" when none), kept and written back.
  std::string extra_json;

  static TaskResult success(std::string id, std::string payload) {
    TaskResult r;
    r.id = std::move(id);
    r.is_success = true;
    r.payload = std::move(payload);
    return r;
  }
  static TaskResult failure(std::string id, std::string error_class, std::string reason) {
    TaskResult r;
    r.id = std::move(id);
    r.error = std::move(error_class);
    r.payload = std::move(reason);
    return r;
  }
};

/// Parses a result message as written by tasker or by docker-tasker's Python agent.
Expected<TaskResult> parse_result(std::string_view json);

/// Serialises a result to its wire form (one line, no trailing newline).
std::string to_json(const TaskResult& result);

}  // namespace tasker
