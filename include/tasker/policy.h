#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tasker/error.h"
#include "tasker/runtime.h"
#include "tasker/task.h"

namespace tasker {

/// A host directory under which tasks may mount paths (`--allow-mount PREFIX[:ro]`).
struct AllowedMount {
  /// Absolute, without symlinks (the CLI resolves it); matched by whole path components.
  std::string host_prefix;
  /// Only read-only mounts are allowed under it.
  bool read_only = false;
};

/// What an agent lets a task do. Default-constructed it allows any image and nothing that
/// reaches past the container (host network, privileged mode, host mounts), with no resource caps
/// but the pids limit; host_default_policy() adds the caps the CLI uses.
struct TaskPolicy {
  /// Glob patterns (fnmatch, `*` also matches '/') a task's image must match; empty allows any.
  std::vector<std::string> allowed_images;
  /// Tasks may ask for `network: host` or `container:<name>`.
  bool allow_host_network = false;
  /// Tasks may ask for `privileged: true`.
  bool allow_privileged = false;
  /// Host directories tasks may mount from; empty refuses every mount.
  std::vector<AllowedMount> allowed_mounts;
  /// Largest `memory` a task may ask for, and the limit of a task that asks none.
  std::optional<std::int64_t> max_memory_bytes;
  /// Largest `cpus` a task may ask for.
  std::optional<double> max_cpus;
  /// Processes (and threads) each container may have.
  std::optional<std::int64_t> pids_limit = kDefaultPidsLimit;
};

/// Checks a (valid) task against a policy without running anything. The error names the field and
/// the flag that would allow it, e.g. `"image": "evil/x:1" is not allowed on this agent
/// (--allow-image)`. Mount sources are resolved on this machine (symlinks followed).
Status check_policy(const Task& task, const TaskPolicy& policy);

/// True when `image` matches one of `patterns`, as written or in its normalised form. A pattern
/// without wildcards is a reference and matches the same image however either is written.
bool image_matches(const std::string& image, const std::vector<std::string>& patterns);

/// The defaults of `tasker agent` and `tasker run` on this host: memory capped at the physical
/// memory divided by `slots`, cpus at the CPU count, 4096 processes per container.
TaskPolicy host_default_policy(std::size_t slots);

/// The limits a runtime applies under this policy: its memory cap becomes the memory limit of a
/// task that asks none, its cpu cap does too when the operator set one (`cap_cpus`; the
/// CPU-count default is a cap, not a limit), and its pids limit applies to every container.
ContainerLimits container_limits(const TaskPolicy& policy, bool cap_cpus);

/// One line for the log saying what the policy allows.
std::string describe(const TaskPolicy& policy);

}  // namespace tasker
