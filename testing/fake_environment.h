#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "aws/clock.h"
#include "aws/environment.h"

namespace tasker::testing {

/// An aws::Environment made of maps: variables and file contents by path.
class FakeEnvironment : public aws::Environment {
 public:
  std::map<std::string, std::string> variables;
  std::map<std::string, std::string> files;

  std::optional<std::string> get(const std::string& name) const override {
    auto found = variables.find(name);
    if (found == variables.end() || found->second.empty()) return std::nullopt;
    return found->second;
  }
  bool is_set(const std::string& name) const override { return variables.count(name) > 0; }
  std::optional<std::string> read_file(const std::string& path) const override {
    auto found = files.find(path);
    if (found == files.end()) return std::nullopt;
    return found->second;
  }
};

/// An aws::Clock that stands still until told to move; sleeping moves it and is recorded.
class FakeClock : public aws::Clock {
 public:
  std::chrono::system_clock::time_point time = std::chrono::system_clock::from_time_t(1767225600);
  std::vector<std::chrono::milliseconds> sleeps;

  std::chrono::system_clock::time_point now() const override { return time; }
  void sleep_for(std::chrono::milliseconds duration) override {
    sleeps.push_back(duration);
    time += duration;
  }
};

}  // namespace tasker::testing
