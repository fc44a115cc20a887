#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "tasker/policy.h"

namespace tasker::cli {

/// The flags that say what an agent lets a task do, shared by `tasker agent`, `tasker run` and
/// `tasker exec` so there is one way to say it. Kept as text and checked by policy_from_flags().
struct PolicyFlags {
  std::vector<std::string> allow_image;
  bool allow_host_network = false;
  bool allow_privileged = false;
  std::vector<std::string> allow_mount;
  std::string max_memory;
  std::string max_cpus;
  std::string pids_limit;
};

/// Adds --allow-image, --allow-host-network, --allow-privileged, --allow-mount, --max-memory,
/// --max-cpus and --pids-limit to `command`.
void add_policy_flags(CLI::App& command, PolicyFlags& flags);

/// The policy the flags ask for, on top of host_default_policy(slots) (`slots` 0: the CPU
/// count). Errors are one line naming the flag, e.g. `--max-memory '12q': unknown unit 'q' ...`.
Expected<TaskPolicy> policy_from_flags(const PolicyFlags& flags, std::size_t slots);

}  // namespace tasker::cli
