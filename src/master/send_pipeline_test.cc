#include "master/send_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace tasker {
namespace {

using namespace std::chrono_literals;

std::vector<Task> batch_of(const std::string& id) {
  Task task;
  task.id = id;
  return {task};
}

// Records what the pipeline tells the journal, and lets a test hold chosen batches back.
class SendPipelineTest : public ::testing::Test {
 protected:
  SendPipeline::Send send() {
    return [this](const std::vector<Task>& batch) {
      const std::string id = batch.front().id;
      std::unique_lock lock(mutex_);
      ++in_flight_;
      most_in_flight_ = std::max(most_in_flight_, in_flight_);
      started_.insert(id);
      changed_.notify_all();
      changed_.wait(lock, [&] { return !held_.count(id); });
      --in_flight_;
      sent_.push_back(id);
      changed_.notify_all();
      return !failing_.count(id);
    };
  }
  SendPipeline::Record record() {
    return [this](std::uint64_t count) {
      std::lock_guard lock(mutex_);
      records_.push_back(count);
      return true;
    };
  }
  void release(const std::string& id) {
    std::lock_guard lock(mutex_);
    held_.erase(id);
    changed_.notify_all();
  }
  bool wait_started(const std::string& id) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return started_.count(id) > 0; });
  }
  std::vector<std::uint64_t> records() {
    std::lock_guard lock(mutex_);
    return records_;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> held_, failing_, started_;
  std::vector<std::string> sent_;
  std::vector<std::uint64_t> records_;
  int in_flight_ = 0;
  int most_in_flight_ = 0;
};

// Given batches that finish out of order, the count told to the journal should only ever cover an
// unbroken run of sent batches: never a batch still on its way.
TEST_F(SendPipelineTest, TheSentCountCoversOnlyAnUnbrokenRunOfSentBatches) {
  held_ = {"a"};
  SendPipeline pipeline(3, 0, send(), record());
  ASSERT_TRUE(pipeline.dispatch(batch_of("a"), 10));
  ASSERT_TRUE(pipeline.dispatch(batch_of("b"), 20));
  ASSERT_TRUE(pipeline.dispatch(batch_of("c"), 25));
  ASSERT_TRUE(wait_started("a"));
  {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, 10s, [&] { return sent_.size() == 2; }));
  }
  std::this_thread::sleep_for(20ms);  // room for a wrong record to be made
  EXPECT_TRUE(records().empty()) << "b and c are sent, but a (tasks 1-10) is not";
  release("a");
  ASSERT_TRUE(pipeline.finish());
  EXPECT_EQ(records(), (std::vector<std::uint64_t>{25}));
}

TEST_F(SendPipelineTest, CountsStartWhereAnEarlierProcessOfTheRunStopped) {
  SendPipeline pipeline(1, 100, send(), record());
  ASSERT_TRUE(pipeline.dispatch(batch_of("a"), 110));
  ASSERT_TRUE(pipeline.dispatch(batch_of("b"), 112));
  ASSERT_TRUE(pipeline.finish());
  EXPECT_EQ(records(), (std::vector<std::uint64_t>{110, 112}));
  EXPECT_EQ(sent_, (std::vector<std::string>{"a", "b"})) << "one sender keeps the supply's order";
}

TEST_F(SendPipelineTest, KeepsAsManySendsInFlightAsItHasSenders) {
  held_ = {"a", "b", "c", "d"};
  SendPipeline pipeline(4, 0, send(), record());
  for (const char* id : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(pipeline.dispatch(batch_of(id), static_cast<std::uint64_t>(id[0] - 'a' + 1)));
  }
  for (const char* id : {"a", "b", "c", "d"}) ASSERT_TRUE(wait_started(id)) << id;
  EXPECT_EQ(most_in_flight_, 4);
  for (const char* id : {"d", "c", "b", "a"}) release(id);
  ASSERT_TRUE(pipeline.finish());
  EXPECT_EQ(records().back(), 4u);
}

// Given a send that fails (the run must stop), later batches should not be sent and the
// pipeline should say so; the count stays below the failed batch.
TEST_F(SendPipelineTest, AFailedSendStopsThePipeline) {
  failing_ = {"b"};
  SendPipeline pipeline(1, 0, send(), record());
  ASSERT_TRUE(pipeline.dispatch(batch_of("a"), 10));
  ASSERT_TRUE(pipeline.dispatch(batch_of("b"), 20));
  {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, 10s, [&] { return sent_.size() == 2; }));
  }
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(pipeline.dispatch(batch_of("c"), 30));
  EXPECT_FALSE(pipeline.finish());
  EXPECT_EQ(sent_, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(records(), (std::vector<std::uint64_t>{10}));
}

TEST_F(SendPipelineTest, AFailedRecordStopsThePipeline) {
  std::atomic<int> calls{0};
  SendPipeline pipeline(1, 0, send(), [&](std::uint64_t) { return ++calls > 1 ? false : true; });
  ASSERT_TRUE(pipeline.dispatch(batch_of("a"), 1));
  ASSERT_TRUE(pipeline.dispatch(batch_of("b"), 2));
  EXPECT_FALSE(pipeline.finish());
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace tasker
