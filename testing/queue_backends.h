#pragma once

// The Queue conformance suite's fixture and backend registration. A backend joins the suite
// with one line in its own test file (a `tests/*_test.cc`, so it is built into
// integration_tests):
//
//   INSTANTIATE_TEST_SUITE_P(Moto, QueueConformanceTest,
//                            ::testing::Values(QueueBackend{"Moto", &open_moto_broker}),
//                            queue_backend_name);
//
// and every TEST_P in tests/queue_conformance_test.cc then runs against it.

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tasker/queue.h"

namespace tasker::testing {

/// A backend the conformance suite runs against: a name and how to open a fresh broker.
struct QueueBackend {
  /// Letters and digits only: it becomes part of each test's name (`Sqlite`, `Moto`).
  std::string name;
  /// Opens a broker for one test. An Error of kind kUnavailable skips the backend's tests (or
  /// fails them under TASKER_REQUIRE_SERVICES=1), for a service that is not running.
  std::function<Expected<std::unique_ptr<Broker>>()> open_broker;
  /// True when the backend delivers one sender's messages in send order while none is
  /// redelivered (the embedded queue does; SQS standard queues do not promise it).
  bool ordered = false;
  /// True when the backend holds SQS's documented receipt and delivery rules strictly: a stale
  /// receipt never deletes a redelivered message, a malformed receipt is refused, and a message
  /// is never handed to two consumers while it is invisible. SQS documents them, but standard
  /// queues ("at least once"), moto and fauxqs do not always hold them; agent and master do not
  /// rely on them (they answer and reduce by task id), so for other backends the suite checks
  /// only what at-least-once promises.
  bool strict = false;
};

/// Shows a backend by its name in test output.
inline void PrintTo(const QueueBackend& backend, std::ostream* out) { *out << backend.name; }

/// The test-name suffix for a backend (its name).
std::string queue_backend_name(const ::testing::TestParamInfo<QueueBackend>& info);

/// One broker per test; queues made through make_queue are deleted at the end.
class QueueConformanceTest : public ::testing::TestWithParam<QueueBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// A name no other test or run uses (SQS keeps deleted names for a while), at most 80 bytes.
  std::string unique_queue_name(std::string_view hint);

  /// Creates a queue with a unique name and `options`, and opens it; fails the test on error.
  std::unique_ptr<Queue> make_queue(const QueueOptions& options);

  /// Deletes `name` at the end of the test.
  void delete_at_end(const std::string& name) { created_.push_back(name); }

  std::unique_ptr<Broker> broker_;

 private:
  std::vector<std::string> created_;
};

/// A fresh directory under the system's temp directory, removed with its contents when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// A path inside the directory.
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace tasker::testing
