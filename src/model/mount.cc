#include <string>
#include <vector>

#include "model/json_util.h"
#include "tasker/task.h"

namespace tasker {
namespace {

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

}  // namespace

Expected<Mount> parse_mount(std::string_view spec) {
  if (spec.empty()) return Error::invalid("is empty (want SOURCE:TARGET[:ro|:rw])");
  if (spec.size() > kMaxTextFieldBytes) {
    return Error::invalid("is longer than " + std::to_string(kMaxTextFieldBytes) + " bytes");
  }
  if (json_util::has_control_character(spec)) return Error::invalid("contains a control character");
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

}  // namespace tasker
