#include <cctype>
#include <optional>
#include <string>

#include "tasker/task.h"

namespace tasker {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// A path component: lowercase alphanumerics separated by '.', '_', '__' or runs of '-'.
bool valid_path_component(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_lower_alnum(c)) continue;
    if (c == '-') continue;
    if (c == '.' || c == '_') {
      // '.' and '_' alone, or '__'; never next to another separator otherwise.
      const char next = s[i + 1];
      if (c == '_' && next == '_') {
        ++i;
        if (!is_lower_alnum(s[i + 1])) return false;
        continue;
      }
      if (!is_lower_alnum(next)) return false;
      continue;
    }
    return false;
  }
  return true;
}

// A registry host: DNS labels or an IPv4 address, optionally with :port; "localhost" too.
bool valid_registry(std::string_view s) {
  std::string_view host = s;
  const auto colon = s.rfind(':');
  if (colon != std::string_view::npos) {
    host = s.substr(0, colon);
    const auto port = s.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
    }
    const int number = std::stoi(std::string(port));
    if (number < 1 || number > 65535) return false;
  }
  if (host.empty() || host.size() > 253) return false;
  std::size_t start = 0;
  while (start <= host.size()) {
    auto dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    const auto label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || !is_alnum(label.front()) || !is_alnum(label.back()))
      return false;
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
    }
    start = dot + 1;
  }
  return true;
}

// A reference taken apart: [registry/]path[:tag][@digest]. Tag and digest are unset when the
// reference has no ':' or '@' for them, and empty when it has one with nothing after it.
struct ImageParts {
  std::string_view registry;  ///< "" when the reference names none.
  std::string_view path;
  std::optional<std::string_view> tag;
  std::optional<std::string_view> digest;
};

// The first component of a path names a registry host when it has a '.' or a ':' or is
// "localhost"; otherwise it is part of the repository's path on Docker Hub.
bool is_registry_host(std::string_view first) {
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
         first == "localhost";
}

ImageParts split_image_reference(std::string_view image) {
  ImageParts parts;
  std::string_view rest = image;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    parts.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' that comes after the last '/'.
  const auto last_slash = rest.rfind('/');
  const auto tag_colon = rest.rfind(':');
  if (tag_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || tag_colon > last_slash)) {
    parts.tag = rest.substr(tag_colon + 1);
    rest = rest.substr(0, tag_colon);
  }
  if (const auto first_slash = rest.find('/'); first_slash != std::string_view::npos) {
    if (is_registry_host(rest.substr(0, first_slash))) {
      parts.registry = rest.substr(0, first_slash);
      rest = rest.substr(first_slash + 1);
    }
  }
  parts.path = rest;
  return parts;
}

Status check_characters(std::string_view image) {
  if (image.empty()) return Error::invalid("is empty");
  if (image.size() > 512) return Error::invalid("is longer than 512 characters");
  for (char c : image) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Error::invalid("contains whitespace or a control character");
    }
  }
  return Status::success();
}

// `algorithm:hex`, as in sha256:<64 hex digits>.
Status check_digest(std::string_view digest) {
  const auto colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= digest.size()) {
    return Error::invalid("digest must look like sha256:<hex>");
  }
  for (char c : digest.substr(0, colon)) {
    if (!is_lower_alnum(c) && c != '+' && c != '.' && c != '_' && c != '-') {
      return Error::invalid("digest algorithm has an invalid character");
    }
  }
  const auto hex = digest.substr(colon + 1);
  if (hex.size() < 32) return Error::invalid("digest is too short");
  for (char c : hex) {
    if (!is_hex(c)) return Error::invalid("digest must be lowercase hex");
  }
  return Status::success();
}

Status check_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return Error::invalid("tag must be 1 to 128 characters");
  if (!is_alnum(tag.front()) && tag.front() != '_') {
    return Error::invalid("tag must start with a letter, digit or '_'");
  }
  for (char c : tag) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
      return Error::invalid("tag may hold only letters, digits, '_', '.' and '-'");
    }
  }
  return Status::success();
}

Status check_path(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const auto component = path.substr(start, slash - start);
    if (!valid_path_component(component)) {
      return Error::invalid("repository name component '" + std::string(component) +
                            "' must be lowercase letters and digits, separated by '.', '_' or '-'");
    }
    start = slash + 1;
  }
  return Status::success();
}

}  // namespace

Status validate_image_reference(std::string_view image) {
  TASKER_TRY(check_characters(image));
  const ImageParts parts = split_image_reference(image);
  if (parts.digest) TASKER_TRY(check_digest(*parts.digest));
  if (parts.tag) TASKER_TRY(check_tag(*parts.tag));
  if (parts.registry.empty() && parts.path.empty()) {
    return Error::invalid("has no repository name");
  }
  if (!parts.registry.empty() && !valid_registry(parts.registry)) {
    return Error::invalid("registry host '" + std::string(parts.registry) +
                          "' is not a valid host[:port]");
  }
  return check_path(parts.path);
}

std::string normalize_image_reference(std::string_view image) {
  const ImageParts parts = split_image_reference(image);
  // Host names are case-insensitive; Docker Hub has two names of its own.
  std::string host = parts.registry.empty() ? "docker.io" : std::string(parts.registry);
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "index.docker.io") host = "docker.io";
  std::string path(parts.path);
  if (host == "docker.io" && path.find('/') == std::string::npos) path = "library/" + path;

  const std::string normalized = host + "/" + path;
  if (parts.digest && !parts.digest->empty()) return normalized + "@" + std::string(*parts.digest);
  const std::string_view tag = parts.tag.value_or("");
  return normalized + ":" + (tag.empty() ? std::string("latest") : std::string(tag));
}

}  // namespace tasker
