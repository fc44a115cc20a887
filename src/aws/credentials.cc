#include "aws/credentials.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "aws/shared_config.h"

namespace tasker::aws {
namespace {

using std::chrono::milliseconds;

constexpr const char* kContainerHost = "http://169.254.170.2";
constexpr const char* kDefaultMetadataEndpoint = "http://169.254.169.254";

std::string trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  const auto first = std::find_if(text.begin(), text.end(),
                                  [](unsigned char c) { return !std::isspace(c); });
  text.erase(text.begin(), first);
  return text;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

/// Static keys from one profile section; kNotFound when it holds none.
Expected<Credentials> keys_from_profile(const ProfileSettings& settings, const std::string& where) {
  auto value = [&](const char* key) -> std::string {
    auto found = settings.find(key);
    return found == settings.end() ? std::string() : found->second;
  };
  const std::string key_id = value("aws_access_key_id");
  const std::string secret = value("aws_secret_access_key");
  if (key_id.empty() && secret.empty()) {
    for (const char* unsupported : {"role_arn", "credential_process", "sso_session",
                                    "sso_start_url", "web_identity_token_file"}) {
      if (settings.contains(unsupported)) {
        return Error::invalid(fmt::format(
            "{} uses {}, which tasker does not support yet: export static or temporary keys "
            "(e.g. `aws configure export-credentials --format env`)",
            where, unsupported));
      }
    }
    return Error::not_found(fmt::format("{} has no aws_access_key_id", where));
  }
  if (key_id.empty() || secret.empty()) {
    return Error::invalid(fmt::format("{} sets {} but not {}", where,
                                      key_id.empty() ? "aws_secret_access_key" : "aws_access_key_id",
                                      key_id.empty() ? "aws_access_key_id" : "aws_secret_access_key"));
  }
  return Credentials{key_id, secret, value("aws_session_token"), std::nullopt, where};
}

/// Parses the JSON both the container endpoint and instance metadata answer with.
Expected<Credentials> parse_credentials_document(const std::string& body, const std::string& where) {
  auto document = nlohmann::json::parse(body, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    // The body may hold a secret: never quote it.
    return Error::internal(fmt::format("{} answered with something other than a JSON object", where));
  }
  if (document.contains("Code") && document["Code"].is_string() && document["Code"] != "Success") {
    return Error::unavailable(fmt::format("{} answered Code {}", where,
                                          document["Code"].get<std::string>()));
  }
  auto text = [&](const char* key) -> std::string {
    auto found = document.find(key);
    return found != document.end() && found->is_string() ? found->get<std::string>() : "";
  };
  Credentials credentials{text("AccessKeyId"), text("SecretAccessKey"), text("Token"), std::nullopt,
                          where};
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Error::internal(fmt::format("{} answered without AccessKeyId or SecretAccessKey", where));
  }
  if (const std::string expiration = text("Expiration"); !expiration.empty()) {
    credentials.expiration = parse_iso8601(expiration);
    if (!credentials.expiration) {
      return Error::internal(fmt::format("{} answered an unreadable Expiration '{}'", where,
                                         expiration.substr(0, 40)));
    }
  }
  return credentials;
}

/// True for the hosts the SDKs allow a plain-http container credentials URI to name.
bool allowed_plain_http_host(std::string_view url) {
  std::string_view rest = url.substr(std::string_view("http://").size());
  rest = rest.substr(0, rest.find('/'));
  std::string_view host = rest;
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  return host == "localhost" || host.starts_with("127.") || host == "[::1]" ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

Error http_status_error(const std::string& where, long status) {
  if (status == 401 || status == 403) {
    return Error::denied(fmt::format("{} refused the request (HTTP {})", where, status));
  }
  if (status >= 500 || status == 429) {
    return Error::transient_failure(fmt::format("{} answered HTTP {}", where, status));
  }
  return Error::internal(fmt::format("{} answered HTTP {}", where, status));
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  std::tm parts{};
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view zone = text.substr(static_cast<std::size_t>(consumed));
  // Fractional seconds are allowed and ignored.
  if (zone.starts_with('.')) {
    zone.remove_prefix(1);
    while (!zone.empty() && std::isdigit(static_cast<unsigned char>(zone.front()))) zone.remove_prefix(1);
  }
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  parts.tm_year -= 1900;
  parts.tm_mon -= 1;
  const std::time_t seconds = ::timegm(&parts);
  if (seconds == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds);
}

Expected<Credentials> credentials_from_environment(const Environment& environment) {
  auto key_id = environment.get("AWS_ACCESS_KEY_ID");
  auto secret = environment.get("AWS_SECRET_ACCESS_KEY");
  if (!key_id && !secret) return Error::not_found("AWS_ACCESS_KEY_ID is not set");
  if (!key_id) return Error::invalid("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (!secret) return Error::invalid("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  return Credentials{*key_id, *secret, environment.get("AWS_SESSION_TOKEN").value_or(""),
                     std::nullopt, "environment"};
}

Expected<Credentials> credentials_from_shared_files(const Environment& environment) {
  const std::string profile = profile_name(environment);
  const std::string credentials_path = credentials_file_path(environment);
  const std::string config_path = config_file_path(environment);
  bool found_profile = false;
  if (auto settings = credentials_file_profile(environment, profile)) {
    found_profile = true;
    auto keys = keys_from_profile(
        *settings, fmt::format("profile '{}' in {}", profile, credentials_path));
    if (keys || keys.error().kind != ErrorKind::kNotFound) return keys;
  }
  if (auto settings = config_file_profile(environment, profile)) {
    found_profile = true;
    auto keys = keys_from_profile(*settings, fmt::format("profile '{}' in {}", profile, config_path));
    if (keys || keys.error().kind != ErrorKind::kNotFound) return keys;
  }
  if (!found_profile && environment.get("AWS_PROFILE")) {
    // A profile asked for by name must exist; falling through to other sources would hide a typo.
    return Error::invalid(fmt::format("AWS_PROFILE='{}': no such profile in {} or {}", profile,
                                      credentials_path, config_path));
  }
  return Error::not_found(
      fmt::format("no keys for profile '{}' in {} or {}", profile, credentials_path, config_path));
}

Expected<Credentials> credentials_from_container(const Environment& environment,
                                                 http::Transport& transport) {
  std::string url;
  if (auto relative = environment.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = std::string(kContainerHost) + (relative->starts_with('/') ? "" : "/") + *relative;
  } else if (auto full = environment.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    if (url.starts_with("http://")) {
      if (!allowed_plain_http_host(url)) {
        return Error::invalid(fmt::format(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI='{}': a plain http URI must name a loopback host "
            "or the ECS/EKS credential address; use https otherwise",
            url));
      }
    } else if (!url.starts_with("https://")) {
      return Error::invalid(fmt::format(
          "AWS_CONTAINER_CREDENTIALS_FULL_URI='{}': must be an http:// or https:// URL", url));
    }
  } else {
    return Error::not_found("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI are not set");
  }

  http::Request request;
  request.url = url;
  request.timeout = milliseconds(2000);
  request.connect_timeout = milliseconds(1000);
  std::optional<std::string> token;
  if (auto token_file = environment.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    token = environment.read_file(*token_file);
    if (!token) {
      return Error::invalid(fmt::format(
          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='{}': cannot read the file", *token_file));
    }
    token = trimmed(*token);
  } else {
    token = environment.get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token) {
    if (token->find_first_of("\r\n") != std::string::npos) {
      return Error::invalid("the container authorization token contains a line break");
    }
    request.headers.emplace_back("Authorization", *token);
  }
  const std::string where = fmt::format("container credentials endpoint {}", url);
  auto response = transport.perform(request);
  if (!response) {
    return Error{response.error().kind,
                 fmt::format("{}: {}", where, response.error().message)};
  }
  if (response->status != 200) return http_status_error(where, response->status);
  return parse_credentials_document(response->body, where);
}

Expected<Credentials> credentials_from_instance_metadata(const Environment& environment,
                                                         http::Transport& transport) {
  if (lower(environment.get("AWS_EC2_METADATA_DISABLED").value_or("")) == "true") {
    return Error::not_found("instance metadata is disabled by AWS_EC2_METADATA_DISABLED");
  }
  std::string endpoint =
      environment.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or(kDefaultMetadataEndpoint);
  while (endpoint.ends_with('/')) endpoint.pop_back();
  const std::string where = fmt::format("instance metadata at {}", endpoint);

  auto send = [&](std::string method, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> headers) {
    http::Request request;
    request.method = std::move(method);
    request.url = endpoint + path;
    request.headers = std::move(headers);
    request.timeout = milliseconds(2000);
    request.connect_timeout = milliseconds(1000);
    return transport.perform(request);
  };

  // IMDSv2: a session token first; IMDSv1 (no token) only where the token call is not known.
  auto token = send("PUT", "/latest/api/token", {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  if (!token) {
    return Error::not_found(fmt::format("{} is not reachable ({})", where, token.error().message));
  }
  std::vector<std::pair<std::string, std::string>> auth;
  if (token->status == 200) {
    auth.emplace_back("X-aws-ec2-metadata-token", trimmed(token->body));
  } else if (token->status == 403) {
    // IMDS answers the token call 403 where instance metadata is turned off: not a source here.
    return Error::not_found(fmt::format("{} is turned off (token call HTTP 403)", where));
  } else if (token->status != 404 && token->status != 405) {
    return http_status_error(where + " (token)", token->status);
  }

  const std::string roles_path = "/latest/meta-data/iam/security-credentials/";
  auto roles = send("GET", roles_path, auth);
  if (!roles) return Error{roles.error().kind, fmt::format("{}: {}", where, roles.error().message)};
  if (roles->status == 404) {
    return Error::not_found(fmt::format("{}: no IAM role is attached to this instance", where));
  }
  if (roles->status != 200) return http_status_error(where, roles->status);
  const std::string role = trimmed(roles->body.substr(0, roles->body.find('\n')));
  if (role.empty()) {
    return Error::not_found(fmt::format("{}: no IAM role is attached to this instance", where));
  }

  auto document = send("GET", roles_path + http::url_encode(role), auth);
  if (!document) {
    return Error{document.error().kind, fmt::format("{}: {}", where, document.error().message)};
  }
  if (document->status != 200) return http_status_error(where, document->status);
  return parse_credentials_document(document->body,
                                    fmt::format("{} (role {})", where, role));
}

DefaultCredentialsChain::DefaultCredentialsChain(const Environment& environment,
                                                 std::unique_ptr<http::Transport> transport,
                                                 Clock& clock)
    : environment_(environment), clock_(clock), transport_(std::move(transport)) {}

Expected<Credentials> DefaultCredentialsChain::get() {
  MutexLock lock(mutex_);
  const auto now = clock_.now();
  const bool still_valid = cached_ && (!cached_->expiration || now < *cached_->expiration);
  const bool due = !cached_ || (cached_->expiration && now >= *cached_->expiration - kRefreshAhead);
  if (!due) return *cached_;
  if (still_valid && now < next_attempt_) return *cached_;
  auto fresh = resolve();
  if (fresh) {
    cached_ = *fresh;
    return fresh;
  }
  // A failed refresh keeps the old credentials while they last, and tries again a little later.
  if (still_valid) {
    next_attempt_ = now + kRetryRefreshAfter;
    return *cached_;
  }
  return fresh.error();
}

Expected<Credentials> DefaultCredentialsChain::resolve() {
  std::vector<std::string> tried;
  auto attempt = [&](Expected<Credentials> result) -> std::optional<Expected<Credentials>> {
    if (result || result.error().kind != ErrorKind::kNotFound) return result;
    tried.push_back(result.error().message);
    return std::nullopt;
  };
  if (auto found = attempt(credentials_from_environment(environment_))) return *found;
  if (auto found = attempt(credentials_from_shared_files(environment_))) return *found;
  if (auto found = attempt(credentials_from_container(environment_, *transport_))) return *found;
  if (auto found = attempt(credentials_from_instance_metadata(environment_, *transport_))) {
    return *found;
  }
  std::string reasons;
  for (const std::string& reason : tried) reasons += (reasons.empty() ? "" : "; ") + reason;
  return Error::denied(fmt::format(
      "no AWS credentials found ({}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
      reasons));
}

}  // namespace tasker::aws
