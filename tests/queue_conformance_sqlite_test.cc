// Registers the embedded SQLite backend with the Queue conformance suite.

#include <atomic>

#include "testing/queue_backends.h"

namespace tasker::testing {
namespace {

/// Each test gets a fresh database file in one directory that lives as long as the process.
Expected<std::unique_ptr<Broker>> open_sqlite_broker() {
  static TempDir directory;
  static std::atomic<int> counter{0};
  auto address =
      parse_broker_address("sqlite:" + directory.file(std::to_string(counter++) + ".db"));
  if (!address) return address.error();
  return open_broker(*address);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, QueueConformanceTest,
                         ::testing::Values(QueueBackend{"Sqlite", &open_sqlite_broker, /*ordered=*/true, /*strict=*/true}),
                         queue_backend_name);

}  // namespace
}  // namespace tasker::testing
