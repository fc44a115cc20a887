#include "docker/docker_client.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "docker/registry_auth.h"
#include "model/json_util.h"

namespace tasker::docker {
namespace {

// Transports kept idle for reuse; more concurrent calls than this open extra connections.
constexpr std::size_t kMaxIdleTransports = 16;
// Limit for ordinary calls; streams (attach, wait, pull) set their own.
constexpr std::chrono::milliseconds kCallTimeout{60000};

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The daemon reports a refused registry login as a 500 with the registry's words in it.
bool looks_denied(std::string_view message) {
  return contains(message, "unauthorized") || contains(message, "no basic auth credentials") ||
         contains(message, "denied") || contains(message, "authentication required");
}

bool looks_not_found(std::string_view message) {
  return contains(message, "not found") || contains(message, "manifest unknown") ||
         contains(message, "No such image") || contains(message, "does not exist");
}

// The daemon's `{"message": ...}`, else the body itself, on one line.
std::string daemon_message(const http::Response& response) {
  std::string message = response.body;
  if (auto json = json_util::parse_object(response.body);
      json && json->contains("message") && (*json)["message"].is_string()) {
    message = (*json)["message"].get<std::string>();
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  if (message.empty()) message = "HTTP " + std::to_string(response.status);
  return message;
}

// A pull's progress stream, fed in chunks: JSON lines, of which the first carrying `error` (or
// `errorDetail`) says why the pull failed. Keeps the stream's first bytes too, which hold the
// daemon's message when the answer is not a 2xx.
class ProgressStream {
 public:
  void consume(std::string_view chunk) {
    if (head_.size() < kHeadBytes) head_.append(chunk.substr(0, kHeadBytes - head_.size()));
    for (char c : chunk) {
      if (c != '\n') {
        if (line_.size() < kMaxLineBytes) line_.push_back(c);
        continue;
      }
      read_line();
      line_.clear();
    }
  }
  /// Reads a last line the stream did not end with a newline.
  void end() {
    if (!line_.empty()) consume("\n");
  }
  const std::string& head() const { return head_; }
  /// The first error the stream reported, or "".
  const std::string& error() const { return error_; }

 private:
  static constexpr std::size_t kHeadBytes = 4096;
  static constexpr std::size_t kMaxLineBytes = 1u << 20;

  void read_line() {
    if (!error_.empty()) return;
    auto json = json_util::parse_object(line_);
    if (!json) return;
    if (auto it = json->find("error"); it != json->end() && it->is_string()) {
      error_ = it->get<std::string>();
    } else if (auto detail = json->find("errorDetail");
               detail != json->end() && detail->is_object() && detail->contains("message")) {
      error_ = detail->value("message", "unknown error");
    }
  }

  std::string line_;
  std::string head_;
  std::string error_;
};

std::unique_ptr<http::Transport> curl_transport(const Endpoint& endpoint) {
  http::CurlTransport::Options options;
  options.unix_socket = endpoint.unix_socket;
  options.user_agent = "tasker/" TASKER_VERSION;
  return std::make_unique<http::CurlTransport>(std::move(options));
}

bool success(const http::Response& response) {
  return response.status >= 200 && response.status < 300;
}

}  // namespace

Expected<Endpoint> parse_docker_host(std::string_view docker_host) {
  if (docker_host.empty()) docker_host = kDefaultDockerHost;
  Endpoint endpoint;
  endpoint.address = std::string(docker_host);
  if (docker_host.rfind("unix://", 0) == 0) {
    const auto path = docker_host.substr(7);
    if (path.empty() || path.front() != '/') {
      return Error::invalid(
          "DOCKER_HOST=" + endpoint.address +
          ": a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock");
    }
    endpoint.unix_socket = std::string(path);
    endpoint.base_url = "http://localhost";
    return endpoint;
  }
  if (docker_host.rfind("tcp://", 0) == 0) {
    auto authority = docker_host.substr(6);
    while (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
    if (authority.empty() || contains(authority, "/")) {
      return Error::invalid("DOCKER_HOST=" + endpoint.address +
                            ": want tcp://HOST:PORT, e.g. tcp://127.0.0.1:2375");
    }
    endpoint.base_url = "http://" + std::string(authority);
    return endpoint;
  }
  return Error::invalid("DOCKER_HOST=" + endpoint.address +
                        ": unsupported address; use unix:///PATH or tcp://HOST:PORT");
}

Expected<Endpoint> endpoint_from_environment() {
  const char* value = std::getenv("DOCKER_HOST");
  return parse_docker_host(value == nullptr ? std::string_view() : std::string_view(value));
}

int compare_api_versions(std::string_view a, std::string_view b) {
  auto parse = [](std::string_view v) {
    const auto dot = v.find('.');
    const int major = std::atoi(std::string(v.substr(0, dot)).c_str());
    const int minor =
        dot == std::string_view::npos ? 0 : std::atoi(std::string(v.substr(dot + 1)).c_str());
    return std::pair{major, minor};
  };
  const auto [a_major, a_minor] = parse(a);
  const auto [b_major, b_minor] = parse(b);
  if (a_major != b_major) return a_major < b_major ? -1 : 1;
  if (a_minor != b_minor) return a_minor < b_minor ? -1 : 1;
  return 0;
}

Expected<std::string> negotiate_api_version(std::string_view daemon_version) {
  const auto dot = daemon_version.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == daemon_version.size() ||
      daemon_version.find_first_not_of("0123456789.") != std::string_view::npos) {
    return Error::internal("the Docker daemon reported API version '" +
                           std::string(daemon_version) + "', which is not MAJOR.MINOR");
  }
  if (compare_api_versions(daemon_version, kMinApiVersion) < 0) {
    return Error::invalid("the Docker daemon speaks API " + std::string(daemon_version) +
                          ", older than the " + std::string(kMinApiVersion) +
                          " tasker needs; upgrade Docker");
  }
  if (compare_api_versions(daemon_version, kMaxApiVersion) > 0) return std::string(kMaxApiVersion);
  return std::string(daemon_version);
}

std::string unreachable_message(const Endpoint& endpoint, std::string_view detail) {
  std::string reason(detail);
  // libcurl words a unix socket failure as a TCP one ("localhost port 80"); say what is wrong.
  if (endpoint.unix_socket) {
    const std::string& path = *endpoint.unix_socket;
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) {
      reason = path + ": " + std::strerror(errno) + " (is Docker running? is DOCKER_HOST right?)";
    } else if (!S_ISSOCK(info.st_mode)) {
      reason = path + " is not a socket (is DOCKER_HOST right?)";
    } else if (access(path.c_str(), R_OK | W_OK) != 0) {
      reason = path + ": " + std::strerror(errno) + " (is the user in the docker group?)";
    } else if (contains(reason, "Couldn't connect")) {
      reason = path + ": connection refused (is the Docker daemon running?)";
    }
  }
  return "docker daemon unreachable at " + endpoint.address + ": " + reason;
}

// A transport borrowed from the pool for one call; returned when the call ends.
struct DockerClient::Lease {
  DockerClient* owner;
  std::unique_ptr<http::Transport> transport;
  ~Lease() {
    if (transport) owner->give_back(std::move(transport));
  }
};

DockerClient::DockerClient(Endpoint endpoint, TransportFactory make_transport)
    : endpoint_(std::move(endpoint)),
      make_transport_(make_transport ? std::move(make_transport) : curl_transport) {}

DockerClient::~DockerClient() = default;

DockerClient::Lease DockerClient::lease() {
  {
    MutexLock lock(mutex_);
    if (!idle_.empty()) {
      auto transport = std::move(idle_.back());
      idle_.pop_back();
      return Lease{this, std::move(transport)};
    }
  }
  return Lease{this, make_transport_(endpoint_)};
}

void DockerClient::give_back(std::unique_ptr<http::Transport> transport) {
  MutexLock lock(mutex_);
  if (idle_.size() < kMaxIdleTransports) idle_.push_back(std::move(transport));
}

Expected<std::string> DockerClient::api_version() {
  {
    MutexLock lock(mutex_);
    if (version_) return *version_;
  }
  auto response = ping_daemon();
  if (!response) return response.error();
  std::string daemon_version = response->header("Api-Version");
  if (daemon_version.empty()) daemon_version = std::string(kMinApiVersion);
  auto version = negotiate_api_version(daemon_version);
  if (!version) return version.error();
  MutexLock lock(mutex_);
  version_ = *version;
  return *version;
}

Expected<http::Response> DockerClient::ping_daemon() {
  http::Request request;
  request.url = endpoint_.base_url + "/_ping";
  request.timeout = std::chrono::milliseconds(10000);
  auto response = lease().transport->perform(request);
  if (!response)
    return Error::unavailable(unreachable_message(endpoint_, response.error().message));
  if (response->status != 200) {
    return Error::unavailable(
        unreachable_message(endpoint_, "/_ping answered HTTP " + std::to_string(response->status)));
  }
  return response;
}

Status DockerClient::ping() {
  if (auto response = ping_daemon(); !response) return response.error();
  auto version = api_version();
  return version ? Status::success() : Status(version.error());
}

Expected<http::Response> DockerClient::call(http::Request request, std::string_view path) {
  auto version = api_version();
  if (!version) return version.error();
  request.url = endpoint_.base_url + "/v" + *version + std::string(path);
  auto response = lease().transport->perform(request);
  if (response) return response;
  const Error& error = response.error();
  if (error.kind == ErrorKind::kCancelled || error.kind == ErrorKind::kTimeout) return error;
  if (error.kind == ErrorKind::kUnavailable) {
    return Error::unavailable(unreachable_message(endpoint_, error.message));
  }
  return Error::unavailable("docker daemon at " + endpoint_.address +
                            " dropped the connection: " + error.message);
}

Error DockerClient::response_error(const http::Response& response, std::string_view what) const {
  const std::string message = std::string(what) + ": " + daemon_message(response);
  switch (response.status) {
    case 400:
      return Error::invalid(message);
    case 401:
    case 403:
      return Error::denied(message);
    case 404:
      return Error::not_found(message);
    case 409:
      return Error::invalid(message);
    default:
      if (looks_denied(message)) return Error::denied(message);
      return Error::internal(message);
  }
}

Expected<bool> DockerClient::image_exists(const std::string& image) {
  auto response = short_call("GET", "/images/" + image + "/json", "inspect image " + image, {404});
  if (!response) return response.error();
  return response->status != 404;
}

Expected<http::Response> DockerClient::short_call(std::string method, const std::string& path,
                                                  std::string_view what,
                                                  std::initializer_list<long> tolerated,
                                                  std::string json_body) {
  http::Request request;
  request.method = std::move(method);
  request.timeout = kCallTimeout;
  if (!json_body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = std::move(json_body);
  }
  auto response = call(std::move(request), path);
  if (!response || success(*response)) return response;
  for (long status : tolerated) {
    if (response->status == status) return response;
  }
  return response_error(*response, what);
}

Status DockerClient::stream_progress(http::Request request, std::string_view path,
                                     std::string_view what) {
  // The daemon answers 200 at once and reports failures as `{"error": ...}` lines later on.
  ProgressStream progress;
  request.timeout = std::chrono::milliseconds(0);
  request.on_body = [&progress](std::string_view chunk) {
    progress.consume(chunk);
    return true;
  };
  auto response = call(std::move(request), path);
  if (!response) return response.error();
  if (!success(*response)) {
    http::Response with_body = *response;
    with_body.body = progress.head();
    Error error = response_error(with_body, what);
    if (error.kind == ErrorKind::kInternal && looks_not_found(error.message)) {
      error.kind = ErrorKind::kNotFound;
    }
    return error;
  }
  progress.end();
  if (const std::string& stream_error = progress.error(); !stream_error.empty()) {
    const std::string message = std::string(what) + ": " + stream_error;
    if (looks_denied(stream_error)) return Error::denied(message);
    if (looks_not_found(stream_error)) return Error::not_found(message);
    return Error::internal(message);
  }
  return Status::success();
}

Status DockerClient::pull_image(const std::string& image,
                                const std::optional<std::string>& registry_auth) {
  const auto name = split_image_for_pull(image);
  http::Request request;
  request.method = "POST";
  if (registry_auth) request.headers.emplace_back("X-Registry-Auth", *registry_auth);
  return stream_progress(std::move(request),
                         "/images/create?fromImage=" + http::url_encode(name.repository) +
                             "&tag=" + http::url_encode(name.tag),
                         "pull " + image);
}

Expected<std::string> DockerClient::create_container(const nlohmann::json& config) {
  auto response =
      short_call("POST", "/containers/create", "create container", {}, json_util::dump(config));
  if (!response) return response.error();
  auto json = json_util::parse_object(response->body);
  if (!json || !json->contains("Id") || !(*json)["Id"].is_string()) {
    return Error::internal("create container: the daemon's answer has no Id: " + response->body);
  }
  return (*json)["Id"].get<std::string>();
}

Status DockerClient::attach_container(const std::string& id, const std::function<void()>& on_open,
                                      const std::function<void(std::string_view)>& on_chunk,
                                      const std::function<bool()>& abort_if) {
  http::Request request;
  request.method = "POST";
  request.timeout = std::chrono::milliseconds(0);
  bool opened = false;
  request.on_headers = [&](long status) {
    if (status >= 200 && status < 300) {
      opened = true;
      on_open();
    }
  };
  std::string error_body;
  request.on_body = [&](std::string_view chunk) {
    if (opened) {
      on_chunk(chunk);
    } else if (error_body.size() < 4096) {
      error_body.append(chunk);
    }
    return true;
  };
  request.abort_if = abort_if;
  auto response =
      call(std::move(request), "/containers/" + id + "/attach?stream=1&stdout=1&stderr=1");
  if (!response) return response.error();
  if (!opened) {
    http::Response with_body = *response;
    with_body.body = error_body;
    return response_error(with_body, "attach to container " + id.substr(0, 12));
  }
  return Status::success();
}

Status DockerClient::start_container(const std::string& id) {
  auto response =
      short_call("POST", "/containers/" + id + "/start", "start container " + id.substr(0, 12));
  return response ? Status::success() : Status(response.error());
}

Expected<int> DockerClient::wait_container(const std::string& id, std::chrono::milliseconds timeout,
                                           const std::function<bool()>& abort_if) {
  http::Request request;
  request.method = "POST";
  request.timeout = timeout;
  request.abort_if = abort_if;
  auto response = call(std::move(request), "/containers/" + id + "/wait");
  if (!response) return response.error();
  if (!success(*response))
    return response_error(*response, "wait for container " + id.substr(0, 12));
  auto json = json_util::parse_object(response->body);
  if (!json || !json->contains("StatusCode") || !(*json)["StatusCode"].is_number_integer()) {
    return Error::internal("wait for container: unexpected answer: " + response->body);
  }
  if (auto error = json->find("Error");
      error != json->end() && error->is_object() && error->contains("Message") &&
      (*error)["Message"].is_string() && !(*error)["Message"].get<std::string>().empty()) {
    return Error::internal("wait for container: " + (*error)["Message"].get<std::string>());
  }
  return (*json)["StatusCode"].get<int>();
}

Expected<ContainerState> DockerClient::inspect_container(const std::string& id) {
  auto response =
      short_call("GET", "/containers/" + id + "/json", "inspect container " + id.substr(0, 12));
  if (!response) return response.error();
  auto json = json_util::parse_object(response->body);
  if (!json || !json->contains("State") || !(*json)["State"].is_object()) {
    return Error::internal("inspect container: the daemon's answer has no State");
  }
  const auto& state = (*json)["State"];
  ContainerState result;
  result.running = state.value("Running", false);
  result.oom_killed = state.value("OOMKilled", false);
  result.exit_code = state.value("ExitCode", 0);
  return result;
}

Status DockerClient::kill_container(const std::string& id) {
  // 404: already removed; 409: not running. Both mean it is not running any more.
  auto response = short_call("POST", "/containers/" + id + "/kill",
                             "kill container " + id.substr(0, 12), {404, 409});
  return response ? Status::success() : Status(response.error());
}

Status DockerClient::remove_container(const std::string& id) {
  auto response = short_call("DELETE", "/containers/" + id + "?force=1&v=1",
                             "remove container " + id.substr(0, 12), {404, 409});
  if (!response) return response.error();
  // 409 "removal already in progress" means someone else is removing it; other conflicts fail.
  if (response->status == 409 && !contains(response->body, "already in progress")) {
    return response_error(*response, "remove container " + id.substr(0, 12));
  }
  return Status::success();
}

Expected<std::vector<ContainerSummary>> DockerClient::list_containers(const std::string& label) {
  const nlohmann::json filters = {{"label", {label}}};
  auto response = short_call(
      "GET", "/containers/json?all=1&filters=" + http::url_encode(json_util::dump(filters)),
      "list containers");
  if (!response) return response.error();
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_array()) return Error::internal("list containers: the answer is not an array");
  std::vector<ContainerSummary> containers;
  for (const auto& item : json) {
    if (!item.is_object()) continue;
    ContainerSummary summary;
    summary.id = item.value("Id", "");
    summary.state = item.value("State", "");
    if (item.contains("Created") && item["Created"].is_number_integer()) {
      summary.created = item["Created"].get<std::int64_t>();
    }
    if (auto labels = item.find("Labels"); labels != item.end() && labels->is_object()) {
      summary.task_id = labels->value("tasker.task-id", "");
      summary.agent = labels->value("tasker.agent", "");
      summary.run_id = labels->value("tasker.run-id", "");
    }
    containers.push_back(std::move(summary));
  }
  return containers;
}

}  // namespace tasker::docker
