#include "tasker/policy.h"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace tasker {
namespace {

Error refused(std::string_view field, const std::string& problem) {
  return Error::denied("\"" + std::string(field) + "\": " + problem);
}

Error mount_refused(std::size_t index, const std::string& spec, const std::string& problem) {
  return Error::denied("\"mounts[" + std::to_string(index) + "]\": \"" + spec + "\": " + problem);
}

bool has_wildcard(const std::string& pattern) {
  return pattern.find_first_of("*?[") != std::string::npos;
}

// The reference as Docker will pull it: with a digest, the tag is only decoration, so a pattern
// on tags must not be satisfied by a tag that is not what runs.
std::string without_tag_when_digest(const std::string& image) {
  const auto at = image.find('@');
  if (at == std::string::npos) return image;
  const std::string name = image.substr(0, at);
  const auto last_slash = name.rfind('/');
  const auto colon = name.rfind(':');
  if (colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash)) {
    return name.substr(0, colon) + image.substr(at);
  }
  return image;
}

bool glob(const std::string& pattern, const std::string& text) {
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

// `path` equals `prefix` or lies under it, compared by whole components (/data holds
// /data/x, not /database).
bool under_prefix(const std::string& path, const std::string& prefix) {
  std::string p = prefix;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == "/") return !path.empty() && path.front() == '/';
  return path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 &&
                       path[p.size()] == '/');
}

std::string prefixes_of(const TaskPolicy& policy) {
  std::string out;
  for (const auto& allowed : policy.allowed_mounts) {
    if (!out.empty()) out += ", ";
    out += allowed.host_prefix + (allowed.read_only ? ":ro" : "");
  }
  return out;
}

std::string format_bytes(std::int64_t bytes) {
  constexpr double kGiB = 1024.0 * 1024 * 1024;
  constexpr double kMiB = 1024.0 * 1024;
  if (bytes >= kGiB) return fmt::format("{:.3g} GiB", static_cast<double>(bytes) / kGiB);
  return fmt::format("{:.4g} MiB", static_cast<double>(bytes) / kMiB);
}

Status check_mount(std::size_t index, const std::string& spec, const TaskPolicy& policy) {
  auto mount = parse_mount(spec);
  if (!mount) return mount_refused(index, spec, mount.error().message);
  if (policy.allowed_mounts.empty()) {
    return mount_refused(index, spec,
                         "host mounts are not allowed on this agent (--allow-mount HOST_PREFIX)");
  }
  // Resolve symlinks first, so a link under an allowed prefix cannot point outside it.
  char resolved_buffer[PATH_MAX];
  if (::realpath(mount->source.c_str(), resolved_buffer) == nullptr) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      return mount_refused(index, spec, "host path " + mount->source + " does not exist");
    }
    return mount_refused(index, spec,
                         "host path " + mount->source + ": " + std::strerror(error));
  }
  const std::string resolved = resolved_buffer;
  const std::string where =
      resolved == mount->source ? "host path " + resolved
                                : "host path " + mount->source + " resolves to " + resolved + ", which";
  bool under_read_only = false;
  for (const auto& allowed : policy.allowed_mounts) {
    if (!under_prefix(resolved, allowed.host_prefix)) continue;
    if (!allowed.read_only || mount->read_only) return Status::success();
    under_read_only = true;
  }
  if (under_read_only) {
    return mount_refused(index, spec,
                         where + " may only be mounted read-only on this agent (add :ro)");
  }
  return mount_refused(index, spec,
                       where + " is outside the allowed host paths " + prefixes_of(policy) +
                           " (--allow-mount)");
}

}  // namespace

bool image_matches(const std::string& image, const std::vector<std::string>& patterns) {
  const std::string written = without_tag_when_digest(image);
  const std::string normalized = normalize_image_reference(image);
  for (const auto& pattern : patterns) {
    if (!has_wildcard(pattern)) {
      // A plain reference: the same image however either side is written.
      if (validate_image_reference(pattern) && normalize_image_reference(pattern) == normalized) {
        return true;
      }
      continue;
    }
    if (glob(pattern, written) || glob(pattern, normalized)) return true;
  }
  return false;
}

Status check_policy(const Task& task, const TaskPolicy& policy) {
  if (!policy.allowed_images.empty() && !image_matches(task.image, policy.allowed_images)) {
    return refused("image", "\"" + task.image + "\" is not allowed on this agent (--allow-image)");
  }

  if (task.network && !policy.allow_host_network) {
    std::string network = *task.network;
    std::transform(network.begin(), network.end(), network.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (network == "host") {
      return refused("network",
                     "host networking is not allowed on this agent (--allow-host-network)");
    }
    if (network.rfind("container:", 0) == 0) {
      return refused("network", "\"" + *task.network +
                                    "\" shares another container's network, which is not allowed "
                                    "on this agent (--allow-host-network)");
    }
  }

  if (task.privileged.value_or(false) && !policy.allow_privileged) {
    return refused("privileged",
                   "privileged containers are not allowed on this agent (--allow-privileged)");
  }

  for (std::size_t i = 0; i < task.mounts.size(); ++i) {
    TASKER_TRY(check_mount(i, task.mounts[i], policy));
  }

  if (task.memory_bytes && policy.max_memory_bytes && *task.memory_bytes > *policy.max_memory_bytes) {
    return refused("memory", format_bytes(*task.memory_bytes) + " is over this agent's cap of " +
                                 format_bytes(*policy.max_memory_bytes) + " (--max-memory)");
  }
  if (task.cpus && policy.max_cpus && *task.cpus > *policy.max_cpus) {
    return refused("cpus", fmt::format("{:g} is over this agent's cap of {:g} (--max-cpus)",
                                       *task.cpus, *policy.max_cpus));
  }
  return Status::success();
}

TaskPolicy host_default_policy(std::size_t slots) {
  TaskPolicy policy;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0) {
    policy.max_memory_bytes =
        static_cast<std::int64_t>(pages) * page_size / static_cast<std::int64_t>(std::max<std::size_t>(1, slots));
  }
  policy.max_cpus = std::max(1u, std::thread::hardware_concurrency());
  policy.pids_limit = kDefaultPidsLimit;
  return policy;
}

std::string describe(const TaskPolicy& policy) {
  std::string images = "any image (no --allow-image given)";
  if (!policy.allowed_images.empty()) {
    images.clear();
    for (const auto& pattern : policy.allowed_images) {
      images += (images.empty() ? "" : " ") + pattern;
    }
  }
  return fmt::format(
      "policy: images {}; host network {}; privileged {}; mounts {}; memory cap {}; cpus cap {}; "
      "pids limit {}",
      images, policy.allow_host_network ? "allowed" : "refused",
      policy.allow_privileged ? "allowed" : "refused",
      policy.allowed_mounts.empty() ? std::string("refused") : "under " + prefixes_of(policy),
      policy.max_memory_bytes ? format_bytes(*policy.max_memory_bytes) : std::string("none"),
      policy.max_cpus ? fmt::format("{:g}", *policy.max_cpus) : std::string("none"),
      policy.pids_limit ? std::to_string(*policy.pids_limit) : std::string("none"));
}

ContainerLimits container_limits(const TaskPolicy& policy, bool cap_cpus) {
  ContainerLimits limits;
  limits.memory_bytes = policy.max_memory_bytes;
  if (cap_cpus) limits.cpus = policy.max_cpus;
  limits.pids = policy.pids_limit;
  return limits;
}

}  // namespace tasker
