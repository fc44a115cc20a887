#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tasker/error.h"

namespace tasker::json_util {

/// Parses text that must be one JSON object; the error says what is wrong and where, in one line
/// (`not valid JSON at byte 12: ...`, `must be a JSON object, got an array`).
Expected<nlohmann::json> parse_object(std::string_view text);

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
