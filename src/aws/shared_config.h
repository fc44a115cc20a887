#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aws/environment.h"

namespace tasker::aws {

/// One profile's settings from a shared file: keys as written (they are lower case by
/// convention), values trimmed.
using ProfileSettings = std::map<std::string, std::string>;

/// Parses an AWS shared INI file (`~/.aws/credentials`, `~/.aws/config`) into its sections.
/// Comment lines (`#`, `;`) and indented sub-settings (`s3 =` blocks) are skipped.
std::map<std::string, ProfileSettings> parse_ini(std::string_view text);

/// The profile in use: AWS_PROFILE, else "default".
std::string profile_name(const Environment& environment);

/// AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials (a leading ~ is the home directory).
std::string credentials_file_path(const Environment& environment);

/// AWS_CONFIG_FILE, else ~/.aws/config.
std::string config_file_path(const Environment& environment);

/// The profile's section of the credentials file (`[NAME]`), or nullopt when the file or the
/// section is absent.
std::optional<ProfileSettings> credentials_file_profile(const Environment& environment,
                                                        const std::string& profile);

/// The profile's section of the config file (`[default]` or `[profile NAME]`), or nullopt.
std::optional<ProfileSettings> config_file_profile(const Environment& environment,
                                                   const std::string& profile);

}  // namespace tasker::aws
