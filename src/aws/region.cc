#include "aws/region.h"

#include <fmt/format.h>

#include "aws/shared_config.h"

namespace tasker::aws {

std::optional<std::string> configured_region(const Environment& environment) {
  if (auto region = environment.get("AWS_REGION")) return region;
  if (auto region = environment.get("AWS_DEFAULT_REGION")) return region;
  if (auto profile = config_file_profile(environment, profile_name(environment))) {
    auto found = profile->find("region");
    if (found != profile->end() && !found->second.empty()) return found->second;
  }
  return std::nullopt;
}

Status validate_region(std::string_view region) {
  if (region.empty() || region.size() > 64) {
    return Error::invalid(fmt::format("region '{}': must be 1 to 64 characters such as us-east-1",
                                      region.substr(0, 64)));
  }
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return Error::invalid(fmt::format(
          "region '{}': only lower-case letters, digits and '-' are allowed (e.g. us-east-1)",
          region));
    }
  }
  return Status::success();
}

Expected<std::optional<std::string>> configured_sqs_endpoint(const Environment& environment) {
  for (const char* variable : {"AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL"}) {
    auto value = environment.get(variable);
    if (!value) continue;
    std::string endpoint = *value;
    if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
      return Error::invalid(fmt::format(
          "{}='{}': the endpoint must be an http:// or https:// URL such as http://127.0.0.1:4566",
          variable, endpoint));
    }
    while (endpoint.ends_with('/')) endpoint.pop_back();
    return std::optional<std::string>(endpoint);
  }
  return std::optional<std::string>();
}

std::string default_sqs_endpoint(std::string_view region) {
  const bool china = region.starts_with("cn-");
  return fmt::format("https://sqs.{}.amazonaws.com{}", region, china ? ".cn" : "");
}

}  // namespace tasker::aws
