#include "tasker/task.h"

#include <string>

#include "model/json_util.h"
#include "model/task_fields.h"

namespace tasker {
namespace {

using nlohmann::json;

// The value `object` sets for `field`, or nullptr: absent and null both mean "not set".
const json* value_of(const json& object, const TaskField& field) {
  const auto it = object.find(field.name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

bool is_task_field(std::string_view name) { return find_task_field(name) != nullptr; }

Status check_message_size(std::string_view text) {
  if (text.size() <= kMaxBodyBytes) return Status::success();
  return Error::invalid("task is " + std::to_string(text.size()) + " bytes, over the " +
                        std::to_string(kMaxBodyBytes) + "-byte limit");
}

// Every required field is set; checked before any is read, so a missing one is named first.
Status check_required_fields(const json& object) {
  for (const TaskField& field : task_fields()) {
    if (field.presence == Presence::kRequired && value_of(object, field) == nullptr) {
      return json_util::field_error(field.name, "missing (required)");
    }
  }
  return Status::success();
}

// Reads every field the message sets, in the table's order; the first fault is the error.
Status read_fields(const json& object, Task& task) {
  for (const TaskField& field : task_fields()) {
    if (const json* value = value_of(object, field)) TASKER_TRY(field.read(field, *value, task));
  }
  return Status::success();
}

}  // namespace

Expected<Task> parse_task(std::string_view text) {
  TASKER_TRY(check_message_size(text));
  auto parsed = json_util::parse_object(text);
  if (!parsed) return parsed.error();
  Task task;
  TASKER_TRY(check_required_fields(*parsed));
  TASKER_TRY(read_fields(*parsed, task));
  task.extra_json = json_util::extra_fields(*parsed, is_task_field);
  TASKER_TRY(validate(task));
  return task;
}

Status validate(const Task& task) {
  for (const TaskField& field : task_fields()) {
    if (field.check != nullptr) TASKER_TRY(field.check(field, task));
  }
  return Status::success();
}

std::string to_json(const Task& task) {
  json object = json::object();
  for (const TaskField& field : task_fields()) field.write(field, task, object);
  json_util::merge_extra_fields(object, task.extra_json);
  return json_util::dump(object);
}

}  // namespace tasker
