#include "cli/policy_flags.h"

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace tasker::cli {
namespace {

Error flag_error(std::string_view flag, std::string_view value, std::string_view problem) {
  return Error::invalid(std::string(flag) + " '" + std::string(value) + "': " + std::string(problem));
}

Status check_image_pattern(const std::string& pattern) {
  if (pattern.empty()) return flag_error("--allow-image", pattern, "is empty");
  for (unsigned char c : pattern) {
    if (c <= ' ' || c == 0x7f) {
      return flag_error("--allow-image", pattern, "contains whitespace or a control character");
    }
  }
  if (pattern.find_first_of("*?[") == std::string::npos) {
    // Without wildcards it is a reference; a typo here would silently allow nothing.
    if (auto valid = validate_image_reference(pattern); !valid) {
      return flag_error("--allow-image", pattern,
                        "is not an image reference: it " + valid.error().message);
    }
  }
  return Status::success();
}

Expected<AllowedMount> parse_allowed_mount(const std::string& value) {
  AllowedMount allowed;
  std::string path = value;
  if (const auto colon = value.rfind(':'); colon != std::string::npos) {
    const std::string mode = value.substr(colon + 1);
    if (mode == "ro") {
      allowed.read_only = true;
    } else if (mode != "rw") {
      return flag_error("--allow-mount", value, "mode '" + mode + "' is not ro or rw");
    }
    path = value.substr(0, colon);
  }
  if (path.empty() || path.front() != '/') {
    return flag_error("--allow-mount", value, "must be an absolute host path such as /data");
  }
  // Resolved like task mount sources are, so both sides compare without symlinks.
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return flag_error("--allow-mount", value, std::strerror(errno));
  }
  allowed.host_prefix = resolved;
  return allowed;
}

Expected<double> parse_cpus(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double cpus = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(cpus) ||
      cpus <= 0 || cpus > kMaxCpus) {
    return flag_error("--max-cpus", text,
                      fmt::format("must be a number greater than 0 and at most {:g}", kMaxCpus));
  }
  return cpus;
}

Expected<std::int64_t> parse_pids_limit(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const long long limit = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || limit < 0) {
    return flag_error("--pids-limit", text, "must be a whole number (0: no limit)");
  }
  return static_cast<std::int64_t>(limit);
}

}  // namespace

void add_policy_flags(CLI::App& command, PolicyFlags& flags) {
  const std::string group = "Policy (what tasks may ask for)";
  command.add_option("--allow-image", flags.allow_image,
                     "Image pattern tasks may use (glob; repeatable). Default: any image")
      ->allow_extra_args(false)
      ->group(group);
  command.add_flag("--allow-host-network", flags.allow_host_network,
                   "Tasks may ask for network host or container:NAME")
      ->group(group);
  command.add_flag("--allow-privileged", flags.allow_privileged,
                   "Tasks may ask for privileged: true")
      ->group(group);
  command.add_option("--allow-mount", flags.allow_mount,
                     "Host directory tasks may mount from, PREFIX or PREFIX:ro (repeatable). "
                     "Default: no mounts")
      ->allow_extra_args(false)
      ->group(group);
  command.add_option("--max-memory", flags.max_memory,
                     "Most memory a task may ask for, and the limit of one that asks none "
                     "(bytes, or k/m/g/t). Default: physical memory / slots")
      ->group(group);
  command.add_option("--max-cpus", flags.max_cpus,
                     "Most cpus a task may ask for, and the limit of one that asks none. "
                     "Default: the CPU count, not applied to tasks that ask none")
      ->group(group);
  command.add_option("--pids-limit", flags.pids_limit,
                     "Processes each task container may have (0: no limit). Default: 4096")
      ->group(group);
}

Expected<TaskPolicy> policy_from_flags(const PolicyFlags& flags, std::size_t slots) {
  if (slots == 0) slots = std::max(1u, std::thread::hardware_concurrency());
  TaskPolicy policy = host_default_policy(slots);
  for (const auto& pattern : flags.allow_image) {
    TASKER_TRY(check_image_pattern(pattern));
    policy.allowed_images.push_back(pattern);
  }
  policy.allow_host_network = flags.allow_host_network;
  policy.allow_privileged = flags.allow_privileged;
  for (const auto& value : flags.allow_mount) {
    auto allowed = parse_allowed_mount(value);
    if (!allowed) return allowed.error();
    policy.allowed_mounts.push_back(*allowed);
  }
  if (!flags.max_memory.empty()) {
    auto bytes = parse_byte_size(flags.max_memory);
    if (!bytes) return flag_error("--max-memory", flags.max_memory, bytes.error().message);
    if (*bytes < kMinMemoryBytes) {
      return flag_error("--max-memory", flags.max_memory,
                        "must be at least " + format_byte_size(kMinMemoryBytes) +
                            " (Docker's minimum)");
    }
    policy.max_memory_bytes = *bytes;
  }
  if (!flags.max_cpus.empty()) {
    auto cpus = parse_cpus(flags.max_cpus);
    if (!cpus) return cpus.error();
    policy.max_cpus = *cpus;
  }
  if (!flags.pids_limit.empty()) {
    auto limit = parse_pids_limit(flags.pids_limit);
    if (!limit) return limit.error();
    policy.pids_limit = *limit == 0 ? std::nullopt : std::optional<std::int64_t>(*limit);
  }
  return policy;
}

}  // namespace tasker::cli
