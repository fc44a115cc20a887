#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tasker/error.h"

namespace tasker::docker {

/// The registry host an image reference names (`127.0.0.1:5000` in `127.0.0.1:5000/x:1`), or
/// Docker Hub's config key `https://index.docker.io/v1/` when it names none.
std::string registry_of(std::string_view image);

/// An image reference split the way the Engine's pull (`fromImage`, `tag`) takes it: the
/// repository, and the tag or digest (`latest` when the reference has neither).
struct ImagePullName {
  std::string repository;
  std::string tag;
};
ImagePullName split_image_for_pull(std::string_view image);

/// Where the user's Docker client configuration lives: `$DOCKER_CONFIG/config.json`, else
/// `$HOME/.docker/config.json`.
std::string docker_config_path();

/// The `X-Registry-Auth` header value (base64url JSON) for pulling `image`, from the `auths`
/// section of the Docker config file at `config_path`; nullopt when the file or its entry for
/// the image's registry is absent. A file that exists but cannot be read or parsed is an error.
Expected<std::optional<std::string>> registry_auth_header(std::string_view image,
                                                          const std::string& config_path);

/// Encodes credentials as `X-Registry-Auth` wants them (base64url of a small JSON object).
std::string encode_registry_auth(const std::string& username, const std::string& password,
                                 const std::string& server);

}  // namespace tasker::docker
