#include "master/progress.h"

#include <fmt/format.h>

#include <algorithm>

#include "model/json_util.h"

namespace tasker {
namespace {

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--";
  const auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, static_cast<int>(s % 3600 / 60));
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, static_cast<int>(s % 60));
  return fmt::format("{}s", s);
}

}  // namespace

Progress::Progress(Style style, std::FILE* out)
    : style_(style), out_(out), start_(std::chrono::steady_clock::now()) {}

std::string Progress::render_bar(const ProgressCounts& c, double elapsed, int width) {
  const double rate = elapsed > 0 ? static_cast<double>(c.done) / elapsed : 0;
  const std::uint64_t total = c.submitted;
  const double fraction = total > 0 ? std::min(1.0, static_cast<double>(c.done) / total) : 0;
  const int filled = static_cast<int>(fraction * width);
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  std::string eta = "--";
  if (c.supply_done && rate > 0 && total >= c.done) eta = format_duration((total - c.done) / rate);
  std::string running = c.running >= 0 ? std::to_string(c.running) : "?";
  return fmt::format("[{}] {}/{}{} done, {} failed, {} running, {:.1f}/s, ETA {}", bar, c.done, total,
                     c.supply_done ? "" : "+", c.failed, running, rate, eta);
}

void Progress::update(const ProgressCounts& counts, bool force) {
  const auto now = std::chrono::steady_clock::now();
  const auto interval = style_ == Style::kBar ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
  if (!force && now - last_draw_ < interval) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (style_ == Style::kBar) {
    fmt::print(out_, "\r{}\x1b[K", render_bar(counts, elapsed, 30));
  } else {
    nlohmann::json line = {{"progress", {{"submitted", counts.submitted},
                                         {"done", counts.done},
                                         {"failed", counts.failed},
                                         {"running", counts.running},
                                         {"supplyDone", counts.supply_done},
                                         {"elapsedSeconds", static_cast<std::int64_t>(elapsed)}}}};
    fmt::print(out_, "{}\n", json_util::dump(line));
  }
  std::fflush(out_);
}

void Progress::finish(const ProgressCounts& counts) {
  update(counts, /*force=*/true);
  if (style_ == Style::kBar) fmt::print(out_, "\n");
  std::fflush(out_);
}

}  // namespace tasker
