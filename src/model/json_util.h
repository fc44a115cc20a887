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

/// "a string", "a number", "an array", ... for error messages.
std::string type_name(const nlohmann::json& value);

/// The fields of `object` not in `known`, as a JSON object text, or "" when there are none.
std::string extra_fields(const nlohmann::json& object,
                         std::initializer_list<std::string_view> known);

/// Merges the object text `extra_json` (from extra_fields) into `object`, known fields winning.
void merge_extra_fields(nlohmann::json& object, const std::string& extra_json);

/// Serialises compactly; invalid UTF-8 (which parse never lets in) is replaced, never thrown.
std::string dump(const nlohmann::json& value);

}  // namespace tasker::json_util
