#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "aws/clock.h"
#include "util/mutex.h"
#include "aws/environment.h"
#include "http/http_client.h"
#include "tasker/error.h"

namespace tasker::aws {

/// An AWS access key pair, with the session token and expiry of temporary credentials.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  /// Empty for long-term keys.
  std::string session_token;
  /// Set for temporary credentials (container, instance metadata).
  std::optional<std::chrono::system_clock::time_point> expiration;
  /// Where they came from, for messages ("environment", "profile default in /root/.aws/...").
  std::string source;
};

/// Hands out credentials to sign requests with. Implementations are thread-safe.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  /// Current credentials, refreshed before they expire; the error says which sources were tried.
  virtual Expected<Credentials> get() = 0;
};

/// Always the same credentials (tests, and callers that hold keys of their own).
class StaticCredentialsProvider : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials)
      : credentials_(std::move(credentials)) {}
  Expected<Credentials> get() override { return credentials_; }

 private:
  const Credentials credentials_;
};

// The four sources of the default chain, each usable alone. An Error of kind kNotFound means
// "not configured here" (its message says why) and the chain goes on to the next source; any
// other Error means the source is configured but broken, and the chain stops there.

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
Expected<Credentials> credentials_from_environment(const Environment& environment);

/// The profile (AWS_PROFILE or default) in the shared credentials file, then the config file.
Expected<Credentials> credentials_from_shared_files(const Environment& environment);

/// The container credentials endpoint (ECS, EKS Pod Identity):
/// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN
/// or _TOKEN_FILE.
Expected<Credentials> credentials_from_container(const Environment& environment,
                                                 http::Transport& transport);

/// EC2 instance metadata with an IMDSv2 session token; the endpoint is
/// AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254, and AWS_EC2_METADATA_DISABLED=true
/// turns the source off.
Expected<Credentials> credentials_from_instance_metadata(const Environment& environment,
                                                         http::Transport& transport);

/// The AWS SDKs' default chain: environment, shared files, container, instance metadata. The
/// first source that has credentials wins; they are cached and fetched again kRefreshAhead before
/// they expire. Thread-safe: one mutex guards the cache and the transport.
class DefaultCredentialsChain : public CredentialsProvider {
 public:
  /// How long before expiry temporary credentials are replaced.
  static constexpr std::chrono::minutes kRefreshAhead{5};
  /// After a failed refresh, how long the still-valid old credentials are used before trying again.
  static constexpr std::chrono::seconds kRetryRefreshAfter{10};

  DefaultCredentialsChain(const Environment& environment,
                          std::unique_ptr<http::Transport> transport, Clock& clock);

  Expected<Credentials> get() override EXCLUDES(mutex_);

 private:
  Expected<Credentials> resolve() REQUIRES(mutex_);

  const Environment& environment_;
  Clock& clock_;
  /// Guards everything below: one refresh at a time, whatever the number of callers.
  Mutex mutex_;
  std::unique_ptr<http::Transport> transport_ GUARDED_BY(mutex_);
  std::optional<Credentials> cached_ GUARDED_BY(mutex_);
  std::chrono::system_clock::time_point next_attempt_ GUARDED_BY(mutex_){};
};

/// Parses an ISO 8601 UTC time as the credential endpoints write it (2026-01-02T03:04:05Z).
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

}  // namespace tasker::aws
