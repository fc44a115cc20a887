#include "testing/queue_backends.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <random>

#include "testing/services.h"

namespace tasker::testing {

std::string queue_backend_name(const ::testing::TestParamInfo<QueueBackend>& info) {
  return info.param.name;
}

void QueueConformanceTest::SetUp() {
  auto broker = GetParam().open_broker();
  if (!broker) {
    if (broker.error().kind == ErrorKind::kUnavailable && !services_required()) {
      GTEST_SKIP() << GetParam().name << " backend unavailable: " << broker.error().message;
    }
    FAIL() << GetParam().name << " backend: " << broker.error().message;
  }
  broker_ = std::move(*broker);
}

void QueueConformanceTest::TearDown() {
  if (broker_ == nullptr) return;
  for (const std::string& name : created_) {
    Status deleted = broker_->delete_queue(name);
    EXPECT_TRUE(deleted.ok() || deleted.error().kind == ErrorKind::kNotFound)
        << deleted.error().message;
  }
}

std::string QueueConformanceTest::unique_queue_name(std::string_view hint) {
  static std::atomic<int> counter{0};
  static const unsigned run = std::random_device{}() % 1000000;
  std::string name = "tq-" + std::to_string(::getpid()) + "-" + std::to_string(run) + "-" +
                     std::to_string(counter++) + "-" + std::string(hint);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
  }
  if (name.size() > 80) name.resize(80);
  return name;
}

std::unique_ptr<Queue> QueueConformanceTest::make_queue(const QueueOptions& options) {
  const std::string name =
      unique_queue_name(::testing::UnitTest::GetInstance()->current_test_info()->name());
  Status created = broker_->create_queue(name, options);
  EXPECT_TRUE(created.ok()) << created.error().message;
  if (!created) return nullptr;
  delete_at_end(name);
  if (options.dead_letter_queue) delete_at_end(*options.dead_letter_queue);
  auto queue = broker_->open_queue(name);
  EXPECT_TRUE(queue.ok()) << queue.error().message;
  if (!queue) return nullptr;
  return std::move(*queue);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "tasker-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace tasker::testing
