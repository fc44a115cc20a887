#include "cli/common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "util/url_credentials.h"

namespace tasker::cli {

CLI::Validator number_range(double min, double max, const std::string& unit) {
  const auto format = [](double number) { return fmt::format("{:.15g}", number); };
  const std::string range = "a number from " + format(min) + " to " + format(max) +
                            (unit.empty() ? "" : " " + unit);
  return CLI::Validator(
      [min, max, range](std::string& input) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double number = std::strtod(input.c_str(), &end);
        // Text that is no number at all is left to the conversion, which says so.
        if (input.empty() || end != input.c_str() + input.size()) return "";
        if (errno == 0 && std::isfinite(number) && number >= min && number <= max) return "";
        return "'" + input + "' is not " + range;
      },
      range);
}

std::string host_name(const std::string& fallback) {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return fallback;
  return name;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

Expected<MasterOptions::Progress> progress_mode(const std::string& flag) {
  if (flag == "auto") {
    return isatty(STDERR_FILENO) ? MasterOptions::Progress::kBar : MasterOptions::Progress::kJsonLines;
  }
  if (flag == "bar") return MasterOptions::Progress::kBar;
  if (flag == "json") return MasterOptions::Progress::kJsonLines;
  if (flag == "none") return MasterOptions::Progress::kNone;
  return Error::invalid("--progress: '" + flag + "' is not one of auto, bar, json, none");
}

Expected<std::istream*> open_input(const std::string& path, std::ifstream& file) {
  if (path == "-") return &std::cin;
  file.open(path, std::ios::binary);
  if (!file) return Error::invalid("cannot open " + path + ": " + std::strerror(errno));
  return &file;
}

std::string input_identity(const std::string& path) {
  if (path == "-") return path;
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

std::string broker_identity(const BrokerAddress& address) {
  if (address.kind == BrokerAddress::Kind::kSqlite) {
    return "sqlite:" + input_identity(address.sqlite_path);
  }
  return "sqs" + (address.endpoint ? ":" + *address.endpoint : std::string());
}

void print_result(const TaskResult& result) {
  std::fputs((to_json(result) + "\n").c_str(), stdout);
  std::fflush(stdout);
}

int finish_run(const RunReport& report, bool allow_failures) {
  std::cerr << "run " << report.run_id << ": " << report.succeeded << " succeeded, " << report.failed
            << " failed, " << report.invalid << " invalid";
  if (report.duplicates > 0) std::cerr << ", " << report.duplicates << " duplicate results dropped";
  if (report.unauthenticated > 0) {
    std::cerr << ", " << report.unauthenticated << " unsigned or forged results dropped";
  }
  std::cerr << "\n";
  if (report.timed_out || report.interrupted) {
    std::cerr << "run " << report.run_id << (report.timed_out ? " timed out" : " interrupted") << ": "
              << report.missing_count << " task(s) without a result";
    for (std::size_t i = 0; i < report.missing.size() && i < 10; ++i) {
      std::cerr << (i == 0 ? ": " : ", ") << report.missing[i];
    }
    if (report.missing_count > 10) std::cerr << ", ...";
    std::cerr << "\n";
    return kExitIncomplete;
  }
  if (!allow_failures && (report.failed > 0 || report.invalid > 0)) return kExitTaskFailed;
  return kExitOk;
}

int fail(const std::string& command, const Error& error) {
  std::cerr << "tasker " << command << ": " << without_url_credentials(error.message) << "\n";
  return kExitUsage;
}

}  // namespace tasker::cli
