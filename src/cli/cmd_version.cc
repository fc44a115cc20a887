#include <curl/curl.h>
#include <sqlite3.h>

#include <iostream>

#include "cli/cli.h"

namespace tasker::cli {

std::function<int()> setup_version(CLI::App& command) {
  return [] {
    std::cout << "tasker " << TASKER_VERSION << " (libcurl " << curl_version_info(CURLVERSION_NOW)->version
              << ", SQLite " << sqlite3_libversion() << ")\n";
    return 0;
  };
}

}  // namespace tasker::cli
