#include "tasker/task.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "model/json_util.h"

namespace tasker {
namespace {

using nlohmann::json;

constexpr std::int64_t kMinMemoryBytes = 6 * 1024 * 1024;  // Docker refuses less.
constexpr std::int64_t kMaxMemoryBytes = std::int64_t{1} << 40;
constexpr double kMaxCpus = 1024;
constexpr std::size_t kMaxShortField = 1024;
constexpr std::size_t kMaxMounts = 64;

// Problems quote the input (an env name, an image, a mount): escaped, so the message stays one
// printable line, safe to log and to send back in a result.
Error field_error(std::string_view field, std::string_view problem) {
  return Error::invalid(
      json_util::printable("\"" + std::string(field) + "\": " + std::string(problem)));
}

Error type_error(std::string_view field, std::string_view wanted, const json& got) {
  return field_error(field, "must be " + std::string(wanted) + ", got " + json_util::type_name(got));
}

bool has_control_character(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Status check_id(const std::string& id) {
  if (id.empty()) return field_error("id", "is empty");
  if (id.size() > kMaxTaskIdBytes) {
    return field_error("id", "is " + std::to_string(id.size()) + " bytes, over the " +
                                 std::to_string(kMaxTaskIdBytes) + "-byte limit");
  }
  if (has_control_character(id)) return field_error("id", "contains a control character");
  if (json_util::has_sqs_refused_character(id)) {
    return field_error("id", "contains a character SQS refuses (U+FFFE or U+FFFF)");
  }
  return Status::success();
}

// A plain one-line string field of bounded length.
Status check_short_string(std::string_view field, const std::string& value) {
  if (value.empty()) return field_error(field, "is empty");
  if (value.size() > kMaxShortField) {
    return field_error(field, "is longer than " + std::to_string(kMaxShortField) + " bytes");
  }
  if (has_control_character(value)) return field_error(field, "contains a control character");
  if (json_util::has_sqs_refused_character(value)) {
    return field_error(field, "contains a character SQS refuses (U+FFFE or U+FFFF)");
  }
  return Status::success();
}

Expected<std::string> get_string(const json& object, std::string_view field) {
  const auto& value = object.at(std::string(field));
  if (!value.is_string()) return type_error(field, "a string", value);
  return value.get<std::string>();
}

// Reads a command given as a shell-style string or as an array of strings.
Status read_command(const json& value, std::string_view field, std::vector<std::string>& argv,
                    std::optional<std::string>* command_line) {
  if (value.is_string()) {
    auto text = value.get<std::string>();
    auto words = split_arguments(text);
    if (!words) return field_error(field, words.error().message);
    argv = std::move(*words);
    if (command_line != nullptr) *command_line = std::move(text);
    return Status::success();
  }
  if (value.is_array()) {
    argv.clear();
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) {
        return type_error(std::string(field) + "[" + std::to_string(i) + "]", "a string",
                          value[i]);
      }
      argv.push_back(value[i].get<std::string>());
    }
    return Status::success();
  }
  return type_error(field, "a string or an array of strings", value);
}

// Reads `memory`: a byte count, or a size string such as "512m".
Expected<std::int64_t> parse_memory(const json& value) {
  double amount = 0;
  if (value.is_number()) {
    amount = value.get<double>();
  } else if (value.is_string()) {
    auto bytes = parse_byte_size(value.get<std::string>());
    if (!bytes) return field_error("memory", bytes.error().message);
    amount = static_cast<double>(*bytes);
  } else {
    return type_error("memory", "a byte count or a size string such as \"512m\"", value);
  }
  if (!std::isfinite(amount) || amount < kMinMemoryBytes || amount > kMaxMemoryBytes) {
    return field_error("memory", "must be between 6m and 1t");
  }
  return static_cast<std::int64_t>(amount);
}

// The name of one entry of `mounts` in an error, e.g. `"mounts[1]": "data:/x"`.
Error mount_error(std::size_t index, std::string_view spec, std::string_view problem) {
  return Error::invalid(json_util::printable("\"mounts[" + std::to_string(index) + "]\": \"" +
                                             std::string(spec.substr(0, 200)) +
                                             "\": " + std::string(problem)));
}

bool has_dot_dot_component(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (path.substr(start, slash - start) == "..") return true;
    start = slash + 1;
  }
  return false;
}

Expected<double> parse_positive_number(const json& value, std::string_view field, double max,
                                       std::string_view unit) {
  if (!value.is_number()) return type_error(field, "a number", value);
  const double number = value.get<double>();
  if (!std::isfinite(number) || number <= 0) return field_error(field, "must be greater than 0");
  if (number > max) {
    return field_error(field, "must be at most " + std::to_string(static_cast<long long>(max)) +
                                  std::string(unit));
  }
  return number;
}

const std::initializer_list<std::string_view> kKnownFields = {
    "id",      "image", "arguments",  "env",         "timeout", "cpus",      "memory",
    "network", "workdir", "user",     "entrypoint", "maxAttempts", "runId", "replyQueue",
    "privileged", "mounts"};

}  // namespace

Expected<Task> parse_task(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    return Error::invalid("task is " + std::to_string(text.size()) + " bytes, over the " +
                          std::to_string(kMaxMessageBytes) + "-byte limit");
  }
  auto parsed = json_util::parse_object(text);
  if (!parsed) return parsed.error();
  const json& object = *parsed;
  Task task;

  for (const char* required : {"id", "image", "arguments"}) {
    if (!object.contains(required) || object[required].is_null()) {
      return field_error(required, "missing (required)");
    }
  }
  auto id = get_string(object, "id");
  if (!id) return id.error();
  task.id = std::move(*id);
  auto image = get_string(object, "image");
  if (!image) return image.error();
  task.image = std::move(*image);
  TASKER_TRY(read_command(object["arguments"], "arguments", task.argv, &task.command_line));

  // Optional fields: absent and null both mean "not set".
  auto present = [&](const char* field) { return object.contains(field) && !object[field].is_null(); };

  if (present("env")) {
    const auto& env = object["env"];
    if (!env.is_object()) return type_error("env", "an object of strings", env);
    for (auto it = env.begin(); it != env.end(); ++it) {
      const std::string field = "env." + it.key();
      if (it.key().empty() || it.key().find('=') != std::string::npos) {
        return field_error("env", "variable name '" + it.key() + "' is empty or contains '='");
      }
      if (!it->is_string()) return type_error(field, "a string", *it);
      task.env[it.key()] = it->get<std::string>();
    }
  }
  if (present("timeout")) {
    auto timeout = parse_positive_number(object["timeout"], "timeout", kMaxTimeoutSeconds, " s");
    if (!timeout) return timeout.error();
    task.timeout_seconds = *timeout;
  }
  if (present("cpus")) {
    auto cpus = parse_positive_number(object["cpus"], "cpus", kMaxCpus, "");
    if (!cpus) return cpus.error();
    task.cpus = *cpus;
  }
  if (present("memory")) {
    auto memory = parse_memory(object["memory"]);
    if (!memory) return memory.error();
    task.memory_bytes = *memory;
  }
  auto optional_string = [&](const char* field, std::optional<std::string>& out) -> Status {
    if (!present(field)) return Status::success();
    auto value = get_string(object, field);
    if (!value) return value.error();
    out = std::move(*value);
    return Status::success();
  };
  TASKER_TRY(optional_string("network", task.network));
  TASKER_TRY(optional_string("workdir", task.workdir));
  TASKER_TRY(optional_string("user", task.user));
  TASKER_TRY(optional_string("runId", task.run_id));
  TASKER_TRY(optional_string("replyQueue", task.reply_queue));
  if (present("entrypoint")) {
    std::vector<std::string> entrypoint;
    TASKER_TRY(read_command(object["entrypoint"], "entrypoint", entrypoint, nullptr));
    task.entrypoint = std::move(entrypoint);
  }
  if (present("maxAttempts")) {
    const auto& value = object["maxAttempts"];
    if (!value.is_number_integer()) return type_error("maxAttempts", "an integer", value);
    const auto attempts = value.get<std::int64_t>();
    if (attempts < 1 || attempts > kMaxAttemptsLimit) {
      return field_error("maxAttempts", "must be between 1 and " + std::to_string(kMaxAttemptsLimit));
    }
    task.max_attempts = static_cast<int>(attempts);
  }
  if (present("privileged")) {
    const auto& value = object["privileged"];
    if (!value.is_boolean()) return type_error("privileged", "true or false", value);
    task.privileged = value.get<bool>();
  }
  if (present("mounts")) {
    const auto& value = object["mounts"];
    if (!value.is_array()) return type_error("mounts", "an array of \"SOURCE:TARGET[:ro]\" strings", value);
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (!value[i].is_string()) {
        return type_error("mounts[" + std::to_string(i) + "]", "a string", value[i]);
      }
      task.mounts.push_back(value[i].get<std::string>());
    }
  }
  task.extra_json = json_util::extra_fields(object, kKnownFields);

  TASKER_TRY(validate(task));
  return task;
}

Status validate(const Task& task) {
  TASKER_TRY(check_id(task.id));
  if (auto image = validate_image_reference(task.image); !image) {
    return field_error("image", "'" + task.image.substr(0, 80) + "' " + image.error().message);
  }
  if (task.network) {
    TASKER_TRY(check_short_string("network", *task.network));
    for (char c : *task.network) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-' &&
          c != ':') {
        return field_error("network", "'" + *task.network + "' is not a network name");
      }
    }
  }
  if (task.workdir) {
    TASKER_TRY(check_short_string("workdir", *task.workdir));
    if (task.workdir->front() != '/') return field_error("workdir", "must be an absolute path");
  }
  if (task.user) TASKER_TRY(check_short_string("user", *task.user));
  if (task.run_id) TASKER_TRY(check_short_string("runId", *task.run_id));
  if (task.reply_queue) TASKER_TRY(check_short_string("replyQueue", *task.reply_queue));
  if (task.timeout_seconds && !(*task.timeout_seconds > 0 && *task.timeout_seconds <= kMaxTimeoutSeconds)) {
    return field_error("timeout", "must be greater than 0 and at most 604800 s");
  }
  if (task.cpus && !(*task.cpus > 0 && *task.cpus <= kMaxCpus)) {
    return field_error("cpus", "must be greater than 0 and at most 1024");
  }
  if (task.memory_bytes && (*task.memory_bytes < kMinMemoryBytes || *task.memory_bytes > kMaxMemoryBytes)) {
    return field_error("memory", "must be between 6m and 1t");
  }
  if (task.max_attempts && (*task.max_attempts < 1 || *task.max_attempts > kMaxAttemptsLimit)) {
    return field_error("maxAttempts", "must be between 1 and " + std::to_string(kMaxAttemptsLimit));
  }
  for (const auto& [name, value] : task.env) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
      return field_error("env", "variable name '" + name + "' is empty or contains '='");
    }
    if (has_control_character(name)) {
      return field_error("env", "variable name '" + name + "' contains a control character");
    }
    if (value.find('\0') != std::string::npos) {
      return field_error("env." + name, "contains a NUL character");
    }
  }
  for (const auto& word : task.argv) {
    if (word.find('\0') != std::string::npos) return field_error("arguments", "contains a NUL character");
  }
  if (task.mounts.size() > kMaxMounts) {
    return field_error("mounts", "has " + std::to_string(task.mounts.size()) + " entries, over the " +
                                     std::to_string(kMaxMounts) + "-entry limit");
  }
  std::vector<std::string> targets;
  for (std::size_t i = 0; i < task.mounts.size(); ++i) {
    auto mount = parse_mount(task.mounts[i]);
    if (!mount) return mount_error(i, task.mounts[i], mount.error().message);
    if (std::find(targets.begin(), targets.end(), mount->target) != targets.end()) {
      return mount_error(i, task.mounts[i], "container path " + mount->target + " is mounted twice");
    }
    targets.push_back(mount->target);
  }
  return Status::success();
}

Expected<Mount> parse_mount(std::string_view spec) {
  if (spec.empty()) return Error::invalid("is empty (want SOURCE:TARGET[:ro|:rw])");
  if (spec.size() > kMaxShortField) {
    return Error::invalid("is longer than " + std::to_string(kMaxShortField) + " bytes");
  }
  if (has_control_character(spec)) return Error::invalid("contains a control character");
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto colon = spec.find(':', start);
    parts.push_back(spec.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) {
    return Error::invalid("must be SOURCE:TARGET or SOURCE:TARGET:ro (paths cannot contain ':')");
  }
  Mount mount{std::string(parts[0]), std::string(parts[1]), false};
  if (parts.size() == 3) {
    if (parts[2] == "ro") {
      mount.read_only = true;
    } else if (parts[2] != "rw") {
      return Error::invalid("mode '" + std::string(parts[2]) + "' is not ro or rw");
    }
  }
  if (mount.source.empty() || mount.source.front() != '/') {
    return Error::invalid("host path must be absolute");
  }
  if (mount.target.empty() || mount.target.front() != '/') {
    return Error::invalid("container path must be absolute");
  }
  if (has_dot_dot_component(mount.source)) return Error::invalid("host path must not contain '..'");
  if (has_dot_dot_component(mount.target)) {
    return Error::invalid("container path must not contain '..'");
  }
  if (mount.target.find_first_not_of('/') == std::string::npos) {
    return Error::invalid("container path must not be /");
  }
  return mount;
}

Expected<std::int64_t> parse_byte_size(std::string_view text_view) {
  const std::string text(text_view);
  double amount = 0;
  std::size_t used = 0;
  const bool starts_with_digit =
      !text.empty() && (std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.');
  try {
    if (starts_with_digit) amount = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0) return Error::invalid("'" + text + "' is not a size such as 512m or 2g");
  std::string unit = text.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double scale = 0;
  if (unit.empty() || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib") scale = 1024.0 * 1024 * 1024 * 1024;
  else return Error::invalid("unknown unit '" + unit + "' (use b, k, m, g or t)");
  amount *= scale;
  // 2^62 bytes is far beyond any machine and well inside int64.
  if (!std::isfinite(amount) || amount < 0 || amount > 4.6e18) {
    return Error::invalid("'" + text + "' is not a size such as 512m or 2g");
  }
  return static_cast<std::int64_t>(amount);
}

std::string to_json(const Task& task) {
  json object = json::object();
  object["id"] = task.id;
  object["image"] = task.image;
  if (task.command_line) {
    object["arguments"] = *task.command_line;
  } else {
    object["arguments"] = task.argv;
  }
  if (!task.env.empty()) object["env"] = task.env;
  if (task.timeout_seconds) object["timeout"] = *task.timeout_seconds;
  if (task.cpus) object["cpus"] = *task.cpus;
  if (task.memory_bytes) object["memory"] = *task.memory_bytes;
  if (task.network) object["network"] = *task.network;
  if (task.workdir) object["workdir"] = *task.workdir;
  if (task.user) object["user"] = *task.user;
  if (task.entrypoint) object["entrypoint"] = *task.entrypoint;
  if (task.max_attempts) object["maxAttempts"] = *task.max_attempts;
  if (task.run_id) object["runId"] = *task.run_id;
  if (task.reply_queue) object["replyQueue"] = *task.reply_queue;
  if (task.privileged) object["privileged"] = *task.privileged;
  if (!task.mounts.empty()) object["mounts"] = task.mounts;
  json_util::merge_extra_fields(object, task.extra_json);
  return json_util::dump(object);
}

}  // namespace tasker
