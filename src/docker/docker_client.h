#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_client.h"
#include "tasker/error.h"
#include "util/mutex.h"

namespace tasker::docker {

/// Where the Docker daemon listens, from `DOCKER_HOST` (`unix://PATH` or `tcp://HOST:PORT`).
struct Endpoint {
  /// The address as a person would write it, for messages: `unix:///var/run/docker.sock`.
  std::string address;
  /// Set for a unix socket; every request goes over it.
  std::optional<std::string> unix_socket;
  /// Scheme and authority requests are sent to (`http://localhost` over a unix socket).
  std::string base_url;
};

/// The daemon's default address, used when `DOCKER_HOST` is unset.
inline constexpr std::string_view kDefaultDockerHost = "unix:///var/run/docker.sock";

/// Parses a `DOCKER_HOST` value; empty means the default socket. Other schemes are an error.
Expected<Endpoint> parse_docker_host(std::string_view docker_host);

/// The endpoint `DOCKER_HOST` names, or the default socket.
Expected<Endpoint> endpoint_from_environment();

/// The API versions this client speaks: the oldest it needs and the newest it was written for.
inline constexpr std::string_view kMinApiVersion = "1.25";
inline constexpr std::string_view kMaxApiVersion = "1.43";

/// Compares two `MAJOR.MINOR` API versions: negative, zero or positive like strcmp.
int compare_api_versions(std::string_view a, std::string_view b);

/// The version to use with a daemon that speaks up to `daemon_version`: the lower of it and
/// kMaxApiVersion; an error when the daemon is older than kMinApiVersion.
Expected<std::string> negotiate_api_version(std::string_view daemon_version);

/// A container's state as far as a task's outcome needs it.
struct ContainerState {
  bool running = false;
  bool oom_killed = false;
  int exit_code = 0;
};

/// A tasker container found on the daemon, for clean-up.
struct ContainerSummary {
  std::string id;
  std::string state;
  std::string task_id;
  std::string agent;
  std::string run_id;
  std::int64_t created = 0;  ///< Unix seconds.
};

/// A client of the Docker Engine API: one method per endpoint the runtime needs. Thread-safe:
/// each call borrows a transport (a keep-alive connection) from a small pool, so concurrent
/// calls use separate connections and consecutive ones reuse them.
class DockerClient {
 public:
  /// Makes a transport for an endpoint; tests pass one that injects faults.
  using TransportFactory = std::function<std::unique_ptr<http::Transport>(const Endpoint&)>;

  explicit DockerClient(Endpoint endpoint, TransportFactory make_transport = {});
  ~DockerClient();
  DockerClient(const DockerClient&) = delete;
  DockerClient& operator=(const DockerClient&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

  /// The negotiated API version; asks the daemon (`/_ping`) until one answer succeeds.
  Expected<std::string> api_version();

  /// Checks that the daemon answers.
  Status ping();

  /// True when the image is present locally.
  Expected<bool> image_exists(const std::string& image);

  /// Pulls an image, reading the whole progress stream; an error inside the stream is a failure.
  /// `registry_auth` is an `X-Registry-Auth` value. Denied access is kDenied, a missing image
  /// kNotFound.
  Status pull_image(const std::string& image, const std::optional<std::string>& registry_auth);

  /// Creates a container from a ContainerCreate body; returns its id. A missing image is
  /// kNotFound.
  Expected<std::string> create_container(const nlohmann::json& config);

  /// Attaches to a created container's stdout and stderr and streams the raw (multiplexed)
  /// bytes to `on_chunk` until the container's output ends. `on_open` runs once the daemon has
  /// opened the stream, which is when the container may be started without losing output.
  /// `abort_if` is polled about once a second and ends the stream early when true.
  Status attach_container(const std::string& id, const std::function<void()>& on_open,
                          const std::function<void(std::string_view)>& on_chunk,
                          const std::function<bool()>& abort_if);

  Status start_container(const std::string& id);

  /// Waits for the container to stop and returns its exit code. Gives up with kTimeout after
  /// `timeout` (zero: never), and with kCancelled as soon as `abort_if` is true.
  Expected<int> wait_container(const std::string& id, std::chrono::milliseconds timeout,
                               const std::function<bool()>& abort_if);

  Expected<ContainerState> inspect_container(const std::string& id);

  /// Sends SIGKILL; a container that already stopped or is gone is not an error.
  Status kill_container(const std::string& id);

  /// Removes a container, killing it first if it runs; one already gone is not an error.
  Status remove_container(const std::string& id);

  /// Containers (running or not) carrying the label `label` (`key` or `key=value`).
  Expected<std::vector<ContainerSummary>> list_containers(const std::string& label);

 private:
  struct Lease;
  Lease lease();
  void give_back(std::unique_ptr<http::Transport> transport);

  /// Sends one request to `/v<version><path>` on a pooled connection and turns transport
  /// failures into one-line errors that name the daemon's address.
  Expected<http::Response> call(http::Request request, std::string_view path);

  /// The error for a non-2xx response: the daemon's message, typed by status code.
  Error response_error(const http::Response& response, std::string_view what) const;

  /// Sends a short call (no stream) with an optional JSON body; a status outside 2xx and
  /// `tolerated` becomes the daemon's error, prefixed with `what`.
  Expected<http::Response> short_call(std::string method, const std::string& path,
                                      std::string_view what,
                                      std::initializer_list<long> tolerated = {},
                                      std::string json_body = "");

  /// Asks `/_ping`; any failure to get a 200 means the daemon is unreachable.
  Expected<http::Response> ping_daemon();

  /// Reads a pull's progress stream and fails on the first `error` line in it.
  Status stream_progress(http::Request request, std::string_view path, std::string_view what);

  Endpoint endpoint_;
  TransportFactory make_transport_;

  Mutex mutex_;  // Guards the negotiated version and the pool of idle transports.
  std::optional<std::string> version_ GUARDED_BY(mutex_);
  std::vector<std::unique_ptr<http::Transport>> idle_ GUARDED_BY(mutex_);
};

/// The one-line reason for a failure to reach the daemon at `endpoint`.
std::string unreachable_message(const Endpoint& endpoint, std::string_view detail);

}  // namespace tasker::docker
