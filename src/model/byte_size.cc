#include <cctype>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <string>

#include "tasker/task.h"

namespace tasker {
namespace {

// The units of a size, smallest first, in powers of 1024: `2g` is 2 GiB. Each may be followed
// by `b` or `ib` (`2gb`, `2GiB`); `b` alone or no unit is bytes.
struct SizeUnit {
  char letter;
  std::int64_t scale;
};
constexpr SizeUnit kSizeUnits[] = {{'k', std::int64_t{1} << 10},
                                   {'m', std::int64_t{1} << 20},
                                   {'g', std::int64_t{1} << 30},
                                   {'t', std::int64_t{1} << 40}};

// The bytes one `unit` (lower case) stands for, or 0 when it is not a unit.
std::int64_t unit_scale(std::string_view unit) {
  if (unit.empty() || unit == "b") return 1;
  for (const auto& [letter, scale] : kSizeUnits) {
    const auto suffix = unit.substr(1);
    if (unit.front() == letter && (suffix.empty() || suffix == "b" || suffix == "ib")) return scale;
  }
  return 0;
}

// The units for an error: "b, k, m, g or t".
std::string unit_letters() {
  std::string letters = "b";
  for (std::size_t i = 0; i < std::size(kSizeUnits); ++i) {
    letters += i + 1 == std::size(kSizeUnits) ? " or " : ", ";
    letters += kSizeUnits[i].letter;
  }
  return letters;
}

}  // namespace

Expected<std::int64_t> parse_byte_size(std::string_view text_view) {
  const std::string text(text_view);
  double amount = 0;
  std::size_t used = 0;
  const bool starts_with_digit =
      !text.empty() &&
      (std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.');
  try {
    if (starts_with_digit) amount = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0) return Error::invalid("'" + text + "' is not a size such as 512m or 2g");
  std::string unit = text.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::int64_t scale = unit_scale(unit);
  if (scale == 0) return Error::invalid("unknown unit '" + unit + "' (use " + unit_letters() + ")");
  amount *= static_cast<double>(scale);
  // 2^62 bytes is far beyond any machine and well inside int64.
  if (!std::isfinite(amount) || amount < 0 || amount > 4.6e18) {
    return Error::invalid("'" + text + "' is not a size such as 512m or 2g");
  }
  return static_cast<std::int64_t>(amount);
}

std::string format_byte_size(std::int64_t bytes) {
  for (auto unit = std::rbegin(kSizeUnits); unit != std::rend(kSizeUnits); ++unit) {
    if (bytes != 0 && bytes % unit->scale == 0) {
      return std::to_string(bytes / unit->scale) + unit->letter;
    }
  }
  return std::to_string(bytes);
}

}  // namespace tasker
