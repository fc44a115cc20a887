#include "model/json_util.h"

namespace tasker::json_util {

namespace {

// The byte at which arrays and objects nest deeper than kMaxJsonDepth, or npos.
std::size_t too_deep_at(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string printable(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool has_sqs_refused_character(std::string_view text) {
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] == '\xEF' && text[i + 1] == '\xBF' &&
        (text[i + 2] == '\xBE' || text[i + 2] == '\xBF')) {
      return true;
    }
  }
  return false;
}

bool has_control_character(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Expected<nlohmann::json> parse_object(std::string_view text) {
  if (const auto at = too_deep_at(text); at != std::string_view::npos) {
    return Error::invalid("not valid JSON at byte " + std::to_string(at) + ": nested deeper than " +
                          std::to_string(kMaxJsonDepth) + " levels");
  }
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 3: <detail>";
    // keep the detail, point at the byte.
    std::string detail = e.what();
    const auto colon = detail.find(": ", detail.find("parse error"));
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
    if (detail.size() > 160) detail = detail.substr(0, 160) + "...";
    // The detail quotes the input; keep the message one printable line whatever the input was.
    detail = printable(detail);
    return Error::invalid("not valid JSON at byte " + std::to_string(e.byte) + ": " + detail);
  } catch (const nlohmann::json::exception&) {
    // The only other parse failure is a number too large for a double (out_of_range.406).
    return Error::invalid("not valid JSON: a number is out of range");
  }
  if (!value.is_object()) return Error::invalid("must be a JSON object, got " + type_name(value));
  return value;
}

std::string type_name(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::number_float:
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "a number";
    default:
      return "an unsupported value";
  }
}

std::string extra_fields(const nlohmann::json& object, bool (*is_known)(std::string_view name)) {
  nlohmann::json extra = nlohmann::json::object();
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!is_known(it.key())) extra[it.key()] = *it;
  }
  return extra.empty() ? std::string() : dump(extra);
}

void merge_extra_fields(nlohmann::json& object, const std::string& extra_json) {
  if (extra_json.empty()) return;
  const auto extra = nlohmann::json::parse(extra_json, nullptr, /*allow_exceptions=*/false);
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (!object.contains(it.key())) object[it.key()] = *it;
  }
}

Error field_error(std::string_view field, std::string_view problem) {
  return Error::invalid(printable("\"" + std::string(field) + "\": " + std::string(problem)));
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tasker::json_util
