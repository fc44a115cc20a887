#include "aws/shared_config.h"

namespace tasker::aws {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::string expand_home(const Environment& environment, std::string path) {
  if (path == "~" || path.starts_with("~/")) {
    path = environment.get("HOME").value_or("") + path.substr(1);
  }
  return path;
}

std::optional<ProfileSettings> section_of(const Environment& environment, const std::string& path,
                                          const std::string& section) {
  auto text = environment.read_file(path);
  if (!text) return std::nullopt;
  auto sections = parse_ini(*text);
  auto found = sections.find(section);
  if (found == sections.end()) return std::nullopt;
  return found->second;
}

}  // namespace

std::map<std::string, ProfileSettings> parse_ini(std::string_view text) {
  std::map<std::string, ProfileSettings> sections;
  ProfileSettings* current = nullptr;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    std::string_view raw = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const auto close = line.find(']');
      if (close == std::string_view::npos) {
        current = nullptr;
        continue;
      }
      current = &sections[std::string(trim(line.substr(1, close - 1)))];
      continue;
    }
    // Indented lines belong to a nested block such as `s3 =`, which tasker does not use.
    if (indented || current == nullptr) continue;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    (*current)[std::string(trim(line.substr(0, equals)))] = std::string(trim(line.substr(equals + 1)));
  }
  return sections;
}

std::string profile_name(const Environment& environment) {
  return environment.get("AWS_PROFILE").value_or("default");
}

std::string credentials_file_path(const Environment& environment) {
  return expand_home(environment,
                     environment.get("AWS_SHARED_CREDENTIALS_FILE").value_or("~/.aws/credentials"));
}

std::string config_file_path(const Environment& environment) {
  return expand_home(environment, environment.get("AWS_CONFIG_FILE").value_or("~/.aws/config"));
}

std::optional<ProfileSettings> credentials_file_profile(const Environment& environment,
                                                        const std::string& profile) {
  return section_of(environment, credentials_file_path(environment), profile);
}

std::optional<ProfileSettings> config_file_profile(const Environment& environment,
                                                   const std::string& profile) {
  const std::string section = profile == "default" ? profile : "profile " + profile;
  auto settings = section_of(environment, config_file_path(environment), section);
  // The CLI also accepts a bare [NAME] in the config file for a non-default profile.
  if (!settings && profile != "default") {
    settings = section_of(environment, config_file_path(environment), profile);
  }
  return settings;
}

}  // namespace tasker::aws
