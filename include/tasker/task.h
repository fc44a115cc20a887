#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tasker/error.h"
#include "tasker/queue.h"

namespace tasker {

// Limits that validation enforces on every task, whichever way it arrives. The task's field
// table (src/model/task_fields.cc) applies them and its errors print them; flags that bound what
// a task may ask for (--max-memory, --max-cpus) use the same ones.

/// The most bytes of `id`.
inline constexpr std::size_t kMaxTaskIdBytes = 256;
/// The most bytes of a text field (`network`, `workdir`, `user`, `runId`, `replyQueue`) and of
/// one entry of `mounts`.
inline constexpr std::size_t kMaxTextFieldBytes = 1024;
/// The longest `timeout`: a week.
inline constexpr double kMaxTimeoutSeconds = 7 * 24 * 3600.0;
/// The most `cpus` a task may ask for.
inline constexpr double kMaxCpus = 1024;
/// The least `memory` a task may ask for: Docker refuses less.
inline constexpr std::int64_t kMinMemoryBytes = 6 * 1024 * 1024;
/// The most `memory` a task may ask for: 1 TiB.
inline constexpr std::int64_t kMaxMemoryBytes = std::int64_t{1} << 40;
/// The largest `maxAttempts`.
inline constexpr int kMaxAttemptsLimit = 1000;
/// The most entries of `mounts`.
inline constexpr std::size_t kMaxMounts = 64;

/// One unit of work: run `image` with `argv` and report the last stdout line. The wire format is
/// docker-tasker's `{"id","image","arguments"}` plus optional fields; see README.md.
struct Task {
  std::string id;
  std::string image;
  /// The command as words. Empty means the image's default command.
  std::vector<std::string> argv;
  /// The `arguments` string as it arrived, when it arrived as a string; written back unchanged so
  /// that older readers see what the sender wrote.
  std::optional<std::string> command_line;

  std::map<std::string, std::string> env;
  std::optional<double> timeout_seconds;
  std::optional<double> cpus;
  std::optional<std::int64_t> memory_bytes;
  std::optional<std::string> network;
  std::optional<std::string> workdir;
  std::optional<std::string> user;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<int> max_attempts;
  /// Run the container privileged; only agents started with --allow-privileged accept it.
  std::optional<bool> privileged;
  /// Host paths to bind into the container, in docker's `-v` form `SOURCE:TARGET[:ro|:rw]`, both
  /// absolute; only agents started with --allow-mount for the source accept them.
  std::vector<std::string> mounts;

  /// Set by the master: which run the task belongs to and where its result goes.
  std::optional<std::string> run_id;
  std::optional<std::string> reply_queue;

  /// Fields this version does not know, as a JSON object text ("" when none). They are the
  /// extension point: kept and written back, never an error.
  std::string extra_json;
};

/// Parses and validates one task message. Errors name the field and the problem, e.g.
/// `"arguments": unbalanced single quote`.
Expected<Task> parse_task(std::string_view json);

/// Serialises a task to its wire form (one line, no trailing newline).
std::string to_json(const Task& task);

/// Checks a task built in code with the same rules parse_task applies.
Status validate(const Task& task);

/// Checks an image reference against Docker's grammar: [registry[:port]/]path[:tag][@digest].
Status validate_image_reference(std::string_view image);

/// One entry of a task's `mounts`, taken apart.
struct Mount {
  std::string source;  ///< Absolute path on the host.
  std::string target;  ///< Absolute path in the container.
  bool read_only = false;
};

/// Parses `SOURCE:TARGET[:ro|:rw]`; the error says what is wrong with it, without the field name.
Expected<Mount> parse_mount(std::string_view spec);

/// An image reference in Docker's canonical form, for comparing references however they are
/// written: `busybox` and `index.docker.io/library/busybox` are `docker.io/library/busybox:latest`.
/// The registry host is lower-cased; a digest drops the tag (Docker pulls by the digest alone).
/// Call with a reference that passed validate_image_reference.
std::string normalize_image_reference(std::string_view image);

/// Parses a size such as `512m`, `2g` or `1048576`: bytes, or a number with b, k, m, g or t
/// (powers of 1024; `kb`/`kib` and so on too). The error says what is wrong, without a field name.
Expected<std::int64_t> parse_byte_size(std::string_view text);

/// Writes a size as parse_byte_size reads it, in the largest unit that divides it exactly:
/// `6m`, `1t`, `1536k`, `1000` (bytes). For errors that print a size limit.
std::string format_byte_size(std::int64_t bytes);

/// Splits a command line into words exactly as a POSIX shell does, without expansions: single
/// quotes keep everything literal, double quotes keep everything but `\$`, `` \` ``, `\"`, `\\`
/// and backslash-newline, an unquoted backslash quotes the next character.
Expected<std::vector<std::string>> split_arguments(std::string_view command_line);

}  // namespace tasker
