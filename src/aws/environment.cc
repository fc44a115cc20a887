#include "aws/environment.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "aws/clock.h"

namespace tasker::aws {
namespace {

class SystemEnvironment : public Environment {
 public:
  std::optional<std::string> get(const std::string& name) const override {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || value[0] == '\0') return std::nullopt;
    return std::string(value);
  }

  bool is_set(const std::string& name) const override {
    return std::getenv(name.c_str()) != nullptr;
  }

  std::optional<std::string> read_file(const std::string& path) const override {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::ostringstream contents;
    contents << file.rdbuf();
    return contents.str();
  }
};

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
  void sleep_for(std::chrono::milliseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
};

}  // namespace

const Environment& Environment::system() {
  static const SystemEnvironment environment;
  return environment;
}

Clock& Clock::real() {
  static SystemClock clock;
  return clock;
}

}  // namespace tasker::aws
