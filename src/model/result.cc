#include "tasker/result.h"

#include "model/json_util.h"

namespace tasker {
namespace {

using nlohmann::json;

Error field_error(std::string_view field, std::string_view problem) {
  return Error::invalid("\"" + std::string(field) + "\": " + std::string(problem));
}

const std::initializer_list<std::string_view> kKnownFields = {
    "id", "isSuccess", "payload", "exitCode", "error", "durationMs", "attempt", "agent", "runId"};

}  // namespace

Expected<TaskResult> parse_result(std::string_view text) {
  auto parsed = json_util::parse_object(text);
  if (!parsed) return parsed.error();
  const json& object = *parsed;
  TaskResult result;

  if (!object.contains("id")) return field_error("id", "missing (required)");
  if (!object["id"].is_string()) {
    return field_error("id", "must be a string, got " + json_util::type_name(object["id"]));
  }
  result.id = object["id"].get<std::string>();
  if (!object.contains("isSuccess")) return field_error("isSuccess", "missing (required)");
  if (!object["isSuccess"].is_boolean()) {
    return field_error("isSuccess",
                       "must be a boolean, got " + json_util::type_name(object["isSuccess"]));
  }
  result.is_success = object["isSuccess"].get<bool>();

  // The payload is a string in every writer we know of; anything else is kept as its JSON text
  // rather than refused, so a reducer still sees it.
  if (object.contains("payload") && !object["payload"].is_null()) {
    const auto& payload = object["payload"];
    result.payload = payload.is_string() ? payload.get<std::string>() : json_util::dump(payload);
  }

  auto optional_int = [&](const char* field, auto& out) {
    if (object.contains(field) && object[field].is_number_integer()) out = object[field].get<std::int64_t>();
  };
  auto optional_string = [&](const char* field, std::optional<std::string>& out) {
    if (object.contains(field) && object[field].is_string()) out = object[field].get<std::string>();
  };
  optional_int("exitCode", result.exit_code);
  optional_int("durationMs", result.duration_ms);
  optional_int("attempt", result.attempt);
  optional_string("error", result.error);
  optional_string("agent", result.agent);
  optional_string("runId", result.run_id);
  result.extra_json = json_util::extra_fields(object, kKnownFields);
  return result;
}

std::string to_json(const TaskResult& result) {
  json object = json::object();
  object["id"] = result.id;
  object["isSuccess"] = result.is_success;
  object["payload"] = result.payload;
  if (result.exit_code) object["exitCode"] = *result.exit_code;
  if (result.error) object["error"] = *result.error;
  if (result.duration_ms) object["durationMs"] = *result.duration_ms;
  if (result.attempt) object["attempt"] = *result.attempt;
  if (result.agent) object["agent"] = *result.agent;
  if (result.run_id) object["runId"] = *result.run_id;
  json_util::merge_extra_fields(object, result.extra_json);
  return json_util::dump(object);
}

}  // namespace tasker
