#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace tasker::log {

enum class Level { kDebug, kInfo, kWarn, kError };

/// How log lines look: plain text for people, or one JSON object per line for collectors.
enum class Format { kText, kJson };

/// Sets the threshold and format for the whole process (standard error). Call once at start-up.
void configure(Level level, Format format);

/// Parses "debug", "info", "warn" or "error".
bool parse_level(std::string_view text, Level& level);

/// Writes one line if `level` passes the threshold; thread-safe.
void write(Level level, std::string_view message);

bool enabled(Level level);

template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tasker::log
