#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string_view>

#include "tasker/error.h"
#include "tasker/task.h"

namespace tasker {

/// Whether a message must set a field (`null` counts as not set).
enum class Presence { kOptional, kRequired };

/// The range a field's value must lie in. What is counted depends on the field: bytes of text
/// (`id`, `network`, ...), seconds, cpus, bytes of memory, attempts, entries of `mounts`.
struct FieldLimits {
  double min = 0;
  double max = 0;
  /// True when the value must be greater than `min` (`timeout`, `cpus`), not merely at least it.
  bool above_min = false;
};

/// How a field's limits are printed in its errors: `1024`, `604800 s`, `6m`.
enum class LimitUnit { kNumber, kSeconds, kBytes };

/// One field of a task on the wire: its name, what its value must be, its limits, and the
/// functions that read it from a message, check it on a Task and write it back. The table of
/// them, task_fields(), is the one place the task's fields and their limits are written.
struct TaskField {
  /// The JSON key, e.g. "maxAttempts".
  std::string_view name;
  /// What the value must be, as a type error says it: "a string", "an integer", ...
  std::string_view type;
  Presence presence = Presence::kOptional;
  FieldLimits limits = {};
  LimitUnit unit = LimitUnit::kNumber;
  /// Reads a set value into `task`, refusing one of the wrong type or one it cannot convert (a
  /// number outside the limits, a command that does not split, an env name that cannot be
  /// NAME=value); every other rule is left to `check`.
  Status (*read)(const TaskField& field, const nlohmann::json& value, Task& task) = nullptr;
  /// Checks the field on a task, however the task was made; nullptr when any value read is valid.
  Status (*check)(const TaskField& field, const Task& task) = nullptr;
  /// Adds the field to `object` when the task sets it.
  void (*write)(const TaskField& field, const Task& task, nlohmann::json& object) = nullptr;
};

/// Every field of a task, in the order they are read and checked.
std::span<const TaskField> task_fields();

/// The field called `name` (exactly as on the wire), or nullptr when tasks have no such field.
const TaskField* find_task_field(std::string_view name);

}  // namespace tasker
