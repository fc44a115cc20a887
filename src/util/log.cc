#include "util/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "util/mutex.h"
#include "util/url_credentials.h"

namespace tasker::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
Mutex g_write_mutex;  // Keeps lines from different threads whole.

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", buffer, static_cast<int>(millis));
}

}  // namespace

void configure(Level level, Format format) {
  g_level = level;
  g_format = format;
}

bool parse_level(std::string_view text, Level& level) {
  if (text == "debug") level = Level::kDebug;
  else if (text == "info") level = Level::kInfo;
  else if (text == "warn" || text == "warning") level = Level::kWarn;
  else if (text == "error") level = Level::kError;
  else return false;
  return true;
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view logged) {
  // The last guard for what a message quotes: an endpoint's password is never written.
  const std::string message = without_url_credentials(logged);
  std::string line;
  if (g_format == Format::kJson) {
    nlohmann::json object = {{"time", timestamp()}, {"level", level_name(level)},
                             {"msg", std::string(message)}};
    // Bytes that are not UTF-8 are replaced, never thrown on.
    line = object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = fmt::format("{} {:5} {}", timestamp(), level_name(level), message);
  }
  line.push_back('\n');
  MutexLock lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace tasker::log
