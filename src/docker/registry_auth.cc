#include "docker/registry_auth.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "model/json_util.h"

namespace tasker::docker {
namespace {

constexpr std::string_view kDockerHubKey = "https://index.docker.io/v1/";

std::string base64(std::string_view bytes, bool url_safe) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  if (url_safe) {
    for (char& c : out) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
  }
  return out;
}

Expected<std::string> base64_decode(std::string_view text) {
  std::string out(3 * (text.size() / 4) + 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0 || text.size() % 4 != 0) return Error::invalid("is not valid base64");
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  std::size_t size = static_cast<std::size_t>(written);
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() > 1 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

// A config key may be a bare host, or a URL with a scheme and path: compare hosts only.
std::string_view host_of_key(std::string_view key) {
  if (const auto scheme = key.find("://"); scheme != std::string_view::npos) {
    key.remove_prefix(scheme + 3);
  }
  return key.substr(0, key.find('/'));
}

bool is_docker_hub(std::string_view host) {
  return host == "index.docker.io" || host == "docker.io" || host == "registry-1.docker.io";
}

// The Docker config file's JSON; nullopt when there is no such file.
Expected<std::optional<nlohmann::json>> read_docker_config(const std::string& config_path) {
  std::ifstream file(config_path, std::ios::binary);
  if (!file) {
    if (errno == ENOENT) return std::optional<nlohmann::json>();
    return Error::invalid("cannot read Docker config " + config_path + ": " + std::strerror(errno));
  }
  std::stringstream text;
  text << file.rdbuf();
  auto config = json_util::parse_object(text.str());
  if (!config) {
    return Error::invalid("Docker config " + config_path + ": " + config.error().message);
  }
  return std::optional<nlohmann::json>(std::move(*config));
}

// The header for one `auths` entry (`where` names it in errors): its identity token, else its
// user and password (from `auth`, or the separate fields); nullopt when it names no user.
Expected<std::optional<std::string>> entry_auth_header(const nlohmann::json& entry,
                                                       const std::string& registry,
                                                       const std::string& where) {
  auto field = [&entry](const char* name) {
    const auto it = entry.find(name);
    return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (const auto token = field("identitytoken"); !token.empty()) {
    nlohmann::json auth = {{"identitytoken", token}, {"serveraddress", registry}};
    return std::optional<std::string>(base64(json_util::dump(auth), true));
  }
  std::string username = field("username");
  std::string password = field("password");
  if (const auto encoded = field("auth"); !encoded.empty()) {
    auto decoded = base64_decode(encoded);
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Error::invalid(where + ".auth: must be base64 of user:password");
    }
    username = decoded->substr(0, colon);
    password = decoded->substr(colon + 1);
  }
  if (username.empty()) return std::optional<std::string>();
  return std::optional<std::string>(encode_registry_auth(username, password, registry));
}

}  // namespace

std::string registry_of(std::string_view image) {
  const auto slash = image.find('/');
  if (slash == std::string_view::npos) return std::string(kDockerHubKey);
  const auto first = image.substr(0, slash);
  const bool is_host = first.find('.') != std::string_view::npos ||
                       first.find(':') != std::string_view::npos || first == "localhost";
  if (!is_host || is_docker_hub(first)) return std::string(kDockerHubKey);
  return std::string(first);
}

ImagePullName split_image_for_pull(std::string_view image) {
  if (const auto at = image.find('@'); at != std::string_view::npos) {
    return {std::string(image.substr(0, at)), std::string(image.substr(at + 1))};
  }
  const auto last_slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    return {std::string(image.substr(0, colon)), std::string(image.substr(colon + 1))};
  }
  return {std::string(image), "latest"};
}

std::string docker_config_path() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/config.json";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.docker/config.json";
}

std::string encode_registry_auth(const std::string& username, const std::string& password,
                                 const std::string& server) {
  nlohmann::json auth = {{"username", username}, {"password", password}, {"serveraddress", server}};
  return base64(json_util::dump(auth), true);
}

Expected<std::optional<std::string>> registry_auth_header(std::string_view image,
                                                          const std::string& config_path) {
  auto config = read_docker_config(config_path);
  if (!config) return config.error();
  if (!*config) return std::optional<std::string>();
  const auto auths = (*config)->find("auths");
  if (auths == (*config)->end() || !auths->is_object()) return std::optional<std::string>();

  const std::string registry = registry_of(image);
  const bool hub = registry == kDockerHubKey;
  for (const auto& item : auths->items()) {
    const std::string& key = item.key();
    const auto host = host_of_key(key);
    if (!(host == registry || (hub && is_docker_hub(host))) || !item.value().is_object()) continue;
    auto header = entry_auth_header(item.value(), registry,
                                    "Docker config " + config_path + " auths[\"" + key + "\"]");
    if (!header || *header) return header;
  }
  return std::optional<std::string>();
}

}  // namespace tasker::docker
