#pragma once

#include <optional>
#include <string>

namespace tasker::aws {

/// The process environment and file system as the AWS configuration sees them: abstract so the
/// credential and region tests run against a fake. Environment::system() is the real one.
class Environment {
 public:
  virtual ~Environment() = default;

  /// The variable's value, or nullopt when it is unset or empty (as the AWS SDKs treat empty).
  virtual std::optional<std::string> get(const std::string& name) const = 0;

  /// Whether the variable is set at all, empty included (an empty secret must not pass as unset).
  virtual bool is_set(const std::string& name) const { return get(name).has_value(); }

  /// The whole file, or nullopt when it cannot be read.
  virtual std::optional<std::string> read_file(const std::string& path) const = 0;

  /// The real process environment and file system.
  static const Environment& system();
};

}  // namespace tasker::aws
