#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tasker {

/// Counts shown while a run goes on.
struct ProgressCounts {
  std::uint64_t submitted = 0;
  std::uint64_t done = 0;  ///< succeeded + failed
  std::uint64_t failed = 0;
  std::int64_t running = -1;  ///< in flight in the tasks queue; -1 when unknown
  bool supply_done = false;
};

/// Shows progress on standard error: a one-line bar redrawn in place on a terminal (done / failed
/// / running / rate / ETA), or a JSON line every few seconds when not a terminal.
class Progress {
 public:
  enum class Style { kBar, kJsonLines };
  Progress(Style style, std::FILE* out = stderr);

  /// Redraws if enough time has passed since the last draw (or always when `force`).
  void update(const ProgressCounts& counts, bool force = false);
  /// Draws the final state and ends the bar's line.
  void finish(const ProgressCounts& counts);

  /// The bar's text for given counts and elapsed seconds (exposed for tests).
  static std::string render_bar(const ProgressCounts& counts, double elapsed_seconds, int width);

 private:
  Style style_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace tasker
