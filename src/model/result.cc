#include "tasker/result.h"

#include <type_traits>

#include "model/json_util.h"

namespace tasker {
namespace {

using json_util::field_error;
using json_util::write_if_set;
using json_util::write_value;
using nlohmann::json;

/// One field of a result on the wire: its name, whether a result must have it, and how it is
/// read and written. The table of them, kResultFields, is the one place the fields are listed.
struct ResultField {
  std::string_view name;
  bool required = false;
  /// Reads a present value (null included) into `result`.
  Status (*read)(const ResultField& field, const json& value, TaskResult& result) = nullptr;
  /// Adds the field to `object` (optional ones only when set).
  void (*write)(const ResultField& field, const TaskResult& result, json& object) = nullptr;
};

Status read_id(const ResultField& field, const json& value, TaskResult& result) {
  if (!value.is_string()) {
    return field_error(field.name, "must be a string, got " + json_util::type_name(value));
  }
  result.id = value.get<std::string>();
  return Status::success();
}

Status read_is_success(const ResultField& field, const json& value, TaskResult& result) {
  if (!value.is_boolean()) {
    return field_error(field.name, "must be a boolean, got " + json_util::type_name(value));
  }
  result.is_success = value.get<bool>();
  return Status::success();
}

// The payload is a string in every writer we know of; anything else is kept as its JSON text
// rather than refused, so a reducer still sees it.
Status read_payload(const ResultField& field, const json& value, TaskResult& result) {
  if (value.is_string()) {
    result.payload = value.get<std::string>();
  } else if (!value.is_null()) {
    result.payload = json_util::dump(value);
  }
  return Status::success();
}

// Optional detail of the wrong type is ignored, not refused: the result itself still counts.
template <auto member>
Status read_integer(const ResultField& field, const json& value, TaskResult& result) {
  using Integer = typename std::remove_reference_t<decltype(result.*member)>::value_type;
  if (value.is_number_integer()) result.*member = static_cast<Integer>(value.get<std::int64_t>());
  return Status::success();
}

template <auto member>
Status read_boolean(const ResultField& field, const json& value, TaskResult& result) {
  if (value.is_boolean()) result.*member = value.get<bool>();
  return Status::success();
}

template <auto member>
Status read_string(const ResultField& field, const json& value, TaskResult& result) {
  if (value.is_string()) result.*member = value.get<std::string>();
  return Status::success();
}

constexpr ResultField kResultFields[] = {
    {"id", true, read_id, write_value<&TaskResult::id>},
    {"isSuccess", true, read_is_success, write_value<&TaskResult::is_success>},
    {"payload", false, read_payload, write_value<&TaskResult::payload>},
    {"exitCode", false, read_integer<&TaskResult::exit_code>, write_if_set<&TaskResult::exit_code>},
    {"error", false, read_string<&TaskResult::error>, write_if_set<&TaskResult::error>},
    {"durationMs", false, read_integer<&TaskResult::duration_ms>,
     write_if_set<&TaskResult::duration_ms>},
    {"startedAt", false, read_integer<&TaskResult::started_at_ms>,
     write_if_set<&TaskResult::started_at_ms>},
    {"attempt", false, read_integer<&TaskResult::attempt>, write_if_set<&TaskResult::attempt>},
    {"agent", false, read_string<&TaskResult::agent>, write_if_set<&TaskResult::agent>},
    {"runId", false, read_string<&TaskResult::run_id>, write_if_set<&TaskResult::run_id>},
    {"truncated", false, read_boolean<&TaskResult::truncated>, write_if_set<&TaskResult::truncated>},
};

bool is_result_field(std::string_view name) {
  for (const ResultField& field : kResultFields) {
    if (field.name == name) return true;
  }
  return false;
}

}  // namespace

Expected<TaskResult> parse_result(std::string_view text) {
  auto parsed = json_util::parse_object(text);
  if (!parsed) return parsed.error();
  TaskResult result;
  for (const ResultField& field : kResultFields) {
    const auto value = parsed->find(field.name);
    if (value != parsed->end()) {
      TASKER_TRY(field.read(field, *value, result));
    } else if (field.required) {
      return field_error(field.name, "missing (required)");
    }
  }
  result.extra_json = json_util::extra_fields(*parsed, is_result_field);
  return result;
}

std::string to_json(const TaskResult& result) {
  json object = json::object();
  for (const ResultField& field : kResultFields) field.write(field, result, object);
  json_util::merge_extra_fields(object, result.extra_json);
  return json_util::dump(object);
}

}  // namespace tasker
