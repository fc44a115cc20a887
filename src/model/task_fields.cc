#include "model/task_fields.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "model/json_util.h"

namespace tasker {
namespace {

using json_util::field_error;
using json_util::write_if_any;
using json_util::write_if_set;
using json_util::write_value;
using nlohmann::json;

Error type_error(std::string_view field, std::string_view wanted, const json& got) {
  return field_error(field,
                     "must be " + std::string(wanted) + ", got " + json_util::type_name(got));
}

// The name of one element of an array field in an error: `arguments[1]`.
std::string element_name(const TaskField& field, std::size_t index) {
  return std::string(field.name) + "[" + std::to_string(index) + "]";
}

// A number as errors print it: 1024, 604800, 0.01.
std::string format_number(double number) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", number);
  return text;
}

// A limit of `field` as its errors print it: 1024, 604800 s, 6m.
std::string format_limit(const TaskField& field, double limit) {
  switch (field.unit) {
    case LimitUnit::kSeconds:
      return format_number(limit) + " s";
    case LimitUnit::kBytes:
      return format_byte_size(static_cast<std::int64_t>(limit));
    case LimitUnit::kNumber:
      break;
  }
  return format_number(limit);
}

// The rule of every numeric field: its value lies within the field's limits.
Status check_limits(const TaskField& field, double number) {
  const FieldLimits& limits = field.limits;
  if (!limits.above_min) {
    if (std::isfinite(number) && number >= limits.min && number <= limits.max) {
      return Status::success();
    }
    return field_error(field.name, "must be between " + format_limit(field, limits.min) + " and " +
                                       format_limit(field, limits.max));
  }
  if (!std::isfinite(number) || number <= limits.min) {
    return field_error(field.name, "must be greater than " + format_number(limits.min));
  }
  if (number > limits.max) {
    return field_error(field.name, "must be at most " + format_limit(field, limits.max));
  }
  return Status::success();
}

// The rule of text that comes back in logs and results: one printable line SQS can carry.
Status check_printable(std::string_view field, const std::string& value) {
  if (json_util::has_control_character(value)) {
    return field_error(field, "contains a control character");
  }
  if (json_util::has_sqs_refused_character(value)) {
    return field_error(field, "contains a character SQS refuses (U+FFFE or U+FFFF)");
  }
  return Status::success();
}

// The rule of a text field: not empty, at most limits.max bytes, printable.
Status check_text(const TaskField& field, const std::string& value) {
  if (value.empty()) return field_error(field.name, "is empty");
  if (value.size() > field.limits.max) {
    return field_error(field.name, "is longer than " + format_number(field.limits.max) + " bytes");
  }
  return check_printable(field.name, value);
}

// An `env` name the environment can hold as NAME=value: not empty, no '='.
bool is_env_name(std::string_view name) {
  return !name.empty() && name.find('=') == std::string_view::npos;
}

Error env_name_error(const TaskField& field, const std::string& name) {
  return field_error(field.name, "variable name '" + name + "' is empty or contains '='");
}

// The rule of one `env` name: an env name (is_env_name) without NUL or control characters.
Status check_env_name(const TaskField& field, const std::string& name) {
  if (!is_env_name(name) || name.find('\0') != std::string::npos) {
    return env_name_error(field, name);
  }
  if (json_util::has_control_character(name)) {
    return field_error(field.name, "variable name '" + name + "' contains a control character");
  }
  return Status::success();
}

// Reads a command given as a shell-style string (kept in `command_line` when asked for) or as an
// array of strings.
Status read_words(const TaskField& field, const json& value, std::vector<std::string>& words,
                  std::optional<std::string>* command_line) {
  if (value.is_string()) {
    auto text = value.get<std::string>();
    auto split = split_arguments(text);
    if (!split) return field_error(field.name, split.error().message);
    words = std::move(*split);
    if (command_line != nullptr) *command_line = std::move(text);
    return Status::success();
  }
  if (!value.is_array()) return type_error(field.name, field.type, value);
  words.clear();
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) return type_error(element_name(field, i), "a string", value[i]);
    words.push_back(value[i].get<std::string>());
  }
  return Status::success();
}

// Readers: one per kind of value. `member` is the Task field a generic one fills.

template <auto member>
Status read_string(const TaskField& field, const json& value, Task& task) {
  if (!value.is_string()) return type_error(field.name, field.type, value);
  task.*member = value.get<std::string>();
  return Status::success();
}

template <auto member>
Status read_number(const TaskField& field, const json& value, Task& task) {
  if (!value.is_number()) return type_error(field.name, field.type, value);
  const double number = value.get<double>();
  TASKER_TRY(check_limits(field, number));
  task.*member = number;
  return Status::success();
}

template <auto member>
Status read_integer(const TaskField& field, const json& value, Task& task) {
  if (!value.is_number_integer()) return type_error(field.name, field.type, value);
  const double number = value.get<double>();
  TASKER_TRY(check_limits(field, number));
  using Integer = typename std::remove_reference_t<decltype(task.*member)>::value_type;
  task.*member = static_cast<Integer>(number);
  return Status::success();
}

template <auto member>
Status read_boolean(const TaskField& field, const json& value, Task& task) {
  if (!value.is_boolean()) return type_error(field.name, field.type, value);
  task.*member = value.get<bool>();
  return Status::success();
}

// `memory`: a byte count, or a size string such as "512m".
Status read_memory(const TaskField& field, const json& value, Task& task) {
  double bytes = 0;
  if (value.is_number()) {
    bytes = value.get<double>();
  } else if (value.is_string()) {
    auto size = parse_byte_size(value.get<std::string>());
    if (!size) return field_error(field.name, size.error().message);
    bytes = static_cast<double>(*size);
  } else {
    return type_error(field.name, field.type, value);
  }
  TASKER_TRY(check_limits(field, bytes));
  task.memory_bytes = static_cast<std::int64_t>(bytes);
  return Status::success();
}

Status read_arguments(const TaskField& field, const json& value, Task& task) {
  return read_words(field, value, task.argv, &task.command_line);
}

Status read_entrypoint(const TaskField& field, const json& value, Task& task) {
  std::vector<std::string> words;
  TASKER_TRY(read_words(field, value, words, nullptr));
  task.entrypoint = std::move(words);
  return Status::success();
}

Status read_env(const TaskField& field, const json& value, Task& task) {
  if (!value.is_object()) return type_error(field.name, field.type, value);
  for (auto it = value.begin(); it != value.end(); ++it) {
    // A name that cannot be NAME=value is refused as it is read, like a value of the wrong type;
    // check_env applies the rest of the rule.
    if (!is_env_name(it.key())) return env_name_error(field, it.key());
    if (!it->is_string()) {
      return type_error(std::string(field.name) + "." + it.key(), "a string", *it);
    }
    task.env[it.key()] = it->get<std::string>();
  }
  return Status::success();
}

Status read_mounts(const TaskField& field, const json& value, Task& task) {
  if (!value.is_array()) return type_error(field.name, field.type, value);
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) return type_error(element_name(field, i), "a string", value[i]);
    task.mounts.push_back(value[i].get<std::string>());
  }
  return Status::success();
}

// Checkers: the rules of each field on a Task, whoever made it.

template <auto member>
Status check_number(const TaskField& field, const Task& task) {
  const auto& value = task.*member;
  return value ? check_limits(field, static_cast<double>(*value)) : Status::success();
}

template <auto member>
Status check_optional_text(const TaskField& field, const Task& task) {
  const auto& value = task.*member;
  return value ? check_text(field, *value) : Status::success();
}

Status check_id(const TaskField& field, const Task& task) {
  if (task.id.empty()) return field_error(field.name, "is empty");
  if (task.id.size() > field.limits.max) {
    return field_error(field.name, "is " + std::to_string(task.id.size()) + " bytes, over the " +
                                       format_number(field.limits.max) + "-byte limit");
  }
  return check_printable(field.name, task.id);
}

Status check_image(const TaskField& field, const Task& task) {
  if (auto valid = validate_image_reference(task.image); !valid) {
    return field_error(field.name, "'" + task.image.substr(0, 80) + "' " + valid.error().message);
  }
  return Status::success();
}

Status check_arguments(const TaskField& field, const Task& task) {
  for (const auto& word : task.argv) {
    if (word.find('\0') != std::string::npos) {
      return field_error(field.name, "contains a NUL character");
    }
  }
  return Status::success();
}

Status check_env(const TaskField& field, const Task& task) {
  for (const auto& [name, value] : task.env) {
    TASKER_TRY(check_env_name(field, name));
    if (value.find('\0') != std::string::npos) {
      return field_error(std::string(field.name) + "." + name, "contains a NUL character");
    }
  }
  return Status::success();
}

bool is_network_name(const std::string& name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
           c == ':';
  });
}

Status check_network(const TaskField& field, const Task& task) {
  if (!task.network) return Status::success();
  TASKER_TRY(check_text(field, *task.network));
  if (!is_network_name(*task.network)) {
    return field_error(field.name, "'" + *task.network + "' is not a network name");
  }
  return Status::success();
}

Status check_workdir(const TaskField& field, const Task& task) {
  if (!task.workdir) return Status::success();
  TASKER_TRY(check_text(field, *task.workdir));
  if (task.workdir->front() != '/') return field_error(field.name, "must be an absolute path");
  return Status::success();
}

// The name of one entry of `mounts` in an error, with the entry: `"mounts[1]": "data:/x"`.
Error mount_error(const TaskField& field, std::size_t index, std::string_view spec,
                  std::string_view problem) {
  return Error::invalid(json_util::printable("\"" + element_name(field, index) + "\": \"" +
                                             std::string(spec.substr(0, 200)) +
                                             "\": " + std::string(problem)));
}

Status check_mounts(const TaskField& field, const Task& task) {
  if (task.mounts.size() > field.limits.max) {
    return field_error(field.name, "has " + std::to_string(task.mounts.size()) +
                                       " entries, over the " + format_number(field.limits.max) +
                                       "-entry limit");
  }
  std::vector<std::string> targets;
  for (std::size_t i = 0; i < task.mounts.size(); ++i) {
    auto mount = parse_mount(task.mounts[i]);
    if (!mount) return mount_error(field, i, task.mounts[i], mount.error().message);
    if (std::find(targets.begin(), targets.end(), mount->target) != targets.end()) {
      return mount_error(field, i, task.mounts[i],
                         "container path " + mount->target + " is mounted twice");
    }
    targets.push_back(mount->target);
  }
  return Status::success();
}

// `arguments` goes back as the string it arrived as, so older readers see what the sender wrote.
void write_arguments(const TaskField& field, const Task& task, json& object) {
  if (task.command_line) {
    object[std::string(field.name)] = *task.command_line;
  } else {
    object[std::string(field.name)] = task.argv;
  }
}

constexpr FieldLimits kTextLimits{.max = kMaxTextFieldBytes};

// The task's fields, in the order they are read and checked (a line with several faults is told
// the first). README.md's task-field table says the same to users; a test keeps the two alike.
constexpr TaskField kTaskFields[] = {
    {.name = "id",
     .type = "a string",
     .presence = Presence::kRequired,
     .limits = {.max = kMaxTaskIdBytes},
     .read = read_string<&Task::id>,
     .check = check_id,
     .write = write_value<&Task::id>},
    {.name = "image",
     .type = "a string",
     .presence = Presence::kRequired,
     .read = read_string<&Task::image>,
     .check = check_image,
     .write = write_value<&Task::image>},
    {.name = "arguments",
     .type = "a string or an array of strings",
     .presence = Presence::kRequired,
     .read = read_arguments,
     .check = check_arguments,
     .write = write_arguments},
    {.name = "env",
     .type = "an object of strings",
     .read = read_env,
     .check = check_env,
     .write = write_if_any<&Task::env>},
    {.name = "timeout",
     .type = "a number",
     .limits = {.min = 0, .max = kMaxTimeoutSeconds, .above_min = true},
     .unit = LimitUnit::kSeconds,
     .read = read_number<&Task::timeout_seconds>,
     .check = check_number<&Task::timeout_seconds>,
     .write = write_if_set<&Task::timeout_seconds>},
    {.name = "cpus",
     .type = "a number",
     .limits = {.min = 0, .max = kMaxCpus, .above_min = true},
     .read = read_number<&Task::cpus>,
     .check = check_number<&Task::cpus>,
     .write = write_if_set<&Task::cpus>},
    {.name = "memory",
     .type = "a byte count or a size string such as \"512m\"",
     .limits = {.min = kMinMemoryBytes, .max = kMaxMemoryBytes},
     .unit = LimitUnit::kBytes,
     .read = read_memory,
     .check = check_number<&Task::memory_bytes>,
     .write = write_if_set<&Task::memory_bytes>},
    {.name = "network",
     .type = "a string",
     .limits = kTextLimits,
     .read = read_string<&Task::network>,
     .check = check_network,
     .write = write_if_set<&Task::network>},
    {.name = "workdir",
     .type = "a string",
     .limits = kTextLimits,
     .read = read_string<&Task::workdir>,
     .check = check_workdir,
     .write = write_if_set<&Task::workdir>},
    {.name = "user",
     .type = "a string",
     .limits = kTextLimits,
     .read = read_string<&Task::user>,
     .check = check_optional_text<&Task::user>,
     .write = write_if_set<&Task::user>},
    {.name = "runId",
     .type = "a string",
     .limits = kTextLimits,
     .read = read_string<&Task::run_id>,
     .check = check_optional_text<&Task::run_id>,
     .write = write_if_set<&Task::run_id>},
    {.name = "replyQueue",
     .type = "a string",
     .limits = kTextLimits,
     .read = read_string<&Task::reply_queue>,
     .check = check_optional_text<&Task::reply_queue>,
     .write = write_if_set<&Task::reply_queue>},
    {.name = "entrypoint",
     .type = "a string or an array of strings",
     .read = read_entrypoint,
     .write = write_if_set<&Task::entrypoint>},
    {.name = "maxAttempts",
     .type = "an integer",
     .limits = {.min = 1, .max = kMaxAttemptsLimit},
     .read = read_integer<&Task::max_attempts>,
     .check = check_number<&Task::max_attempts>,
     .write = write_if_set<&Task::max_attempts>},
    {.name = "privileged",
     .type = "true or false",
     .read = read_boolean<&Task::privileged>,
     .write = write_if_set<&Task::privileged>},
    {.name = "mounts",
     .type = "an array of \"SOURCE:TARGET[:ro]\" strings",
     .limits = {.max = kMaxMounts},
     .read = read_mounts,
     .check = check_mounts,
     .write = write_if_any<&Task::mounts>},
};

}  // namespace

std::span<const TaskField> task_fields() { return kTaskFields; }

const TaskField* find_task_field(std::string_view name) {
  for (const TaskField& field : kTaskFields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

}  // namespace tasker
