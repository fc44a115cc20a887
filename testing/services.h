#pragma once

// Helpers for integration tests that need a service the harness (tests/harness.sh) provides.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace tasker::testing {

/// True when the run demands every service (scripts/test.sh sets TASKER_REQUIRE_SERVICES=1), so
/// a missing one is a failure rather than a skip.
inline bool services_required() {
  const char* value = std::getenv("TASKER_REQUIRE_SERVICES");
  return value != nullptr && std::string(value) == "1";
}

inline std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace tasker::testing

/// Sets `variable` to the environment variable `name`; when it is unset, skips the test (or fails
/// it under TASKER_REQUIRE_SERVICES=1). Use in a test body or SetUp().
#define TASKER_REQUIRE_ENV(variable, name)                                                   \
  std::string variable = ::tasker::testing::env_or_empty(name);                              \
  if (variable.empty()) {                                                                    \
    if (::tasker::testing::services_required()) {                                            \
      FAIL() << name << " is not set: run under tests/harness.sh (scripts/test.sh does)";    \
    }                                                                                        \
    GTEST_SKIP() << name << " is not set: start the services with tests/harness.sh";         \
  }
