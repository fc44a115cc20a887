#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tasker/error.h"

namespace tasker::json_util {

/// How deeply arrays and objects may nest in a message; deeper input is refused before parsing,
/// since the parser and printer recurse and a 256 KiB message of brackets would overflow the stack.
inline constexpr std::size_t kMaxJsonDepth = 100;

/// Parses text that must be one JSON object; the error says what is wrong and where, in one line
/// (`not valid JSON at byte 12: ...`, `must be a JSON object, got an array`).
Expected<nlohmann::json> parse_object(std::string_view text);

/// `text` with every byte outside printable ASCII written as \xNN, so a message that quotes input
/// stays one printable line.
std::string printable(std::string_view text);

/// True when `text` holds U+FFFE or U+FFFF: valid JSON, but SQS refuses any body holding them,
/// so a task naming them in a field that comes back in its result could never be answered.
bool has_sqs_refused_character(std::string_view text);

/// True when `text` holds a byte below 0x20 or 0x7f: such a field would break a log line or a
/// one-line error that quotes it.
bool has_control_character(std::string_view text);

/// "a string", "a number", "an array", ... for error messages.
std::string type_name(const nlohmann::json& value);

/// The fields of `object` for which `is_known` is false, as a JSON object text, or "" when there
/// are none.
std::string extra_fields(const nlohmann::json& object, bool (*is_known)(std::string_view name));

/// Merges the object text `extra_json` (from extra_fields) into `object`, known fields winning.
void merge_extra_fields(nlohmann::json& object, const std::string& extra_json);

/// An error naming a message's field, on one printable line: `"timeout": must be greater than 0`.
/// Problems quote the input (an env name, an image), so it is escaped: safe to log and to send
/// back in a result.
Error field_error(std::string_view field, std::string_view problem);

/// Writers the task and result field tables point at: `record.*member` under `field.name`,
/// always (write_value), when set (write_if_set) or when not empty (write_if_any).
template <auto member, class Field, class Record>
void write_value(const Field& field, const Record& record, nlohmann::json& object) {
  object[std::string(field.name)] = record.*member;
}

template <auto member, class Field, class Record>
void write_if_set(const Field& field, const Record& record, nlohmann::json& object) {
  if (const auto& value = record.*member) object[std::string(field.name)] = *value;
}

template <auto member, class Field, class Record>
void write_if_any(const Field& field, const Record& record, nlohmann::json& object) {
  if (const auto& values = record.*member; !values.empty()) {
    object[std::string(field.name)] = values;
  }
}

/// Serialises compactly; invalid UTF-8 (which parse never lets in) is replaced, never thrown.
std::string dump(const nlohmann::json& value);

}  // namespace tasker::json_util
