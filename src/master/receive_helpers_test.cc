#include "master/receive_helpers.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "testing/fake_queue.h"

namespace tasker {
namespace {

using namespace std::chrono_literals;
using testing::FakeBroker;

class ReceiveHelpersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.create_queue("results", {}).ok());
    results_ = std::move(*broker_.open_queue("results"));
  }
  void put(int count) {
    for (int i = 0; i < count; ++i) {
      auto sent = results_->send({"r" + std::to_string(i)});
      ASSERT_TRUE(sent.ok());
    }
  }
  // Every receipt of the messages now visible, taken by one receive per ten.
  std::vector<std::string> receive_all(int count) {
    std::vector<std::string> receipts;
    while (static_cast<int>(receipts.size()) < count) {
      auto got = results_->receive(Queue::kMaxBatch, 0ms);
      EXPECT_TRUE(got.ok());
      if (!got.ok() || got->empty()) break;
      for (const auto& m : *got) receipts.push_back(m.receipt);
    }
    return receipts;
  }
  int acks() {
    auto state = broker_.state("results");
    std::lock_guard lock(state->mutex);
    return state->acks;
  }

  FakeBroker broker_;
  std::unique_ptr<Queue> results_;
};

TEST_F(ReceiveHelpersTest, WithoutHelpersDeletesAtOnceAndReceivesNothing) {
  put(12);
  const auto receipts = receive_all(12);
  ReceiveHelpers helpers(*results_, 0);
  helpers.set_backlog(true);
  helpers.delete_later(receipts);
  EXPECT_EQ(acks(), 12);
  bool busy = true;
  EXPECT_FALSE(helpers.take(0ms, busy));
  EXPECT_FALSE(busy) << "without helpers the loop always polls itself";
  EXPECT_TRUE(helpers.finish().empty());
}

// Given receipts handed over while the helpers run, every one should be deleted, at the latest
// by finish().
TEST_F(ReceiveHelpersTest, EveryReceiptHandedOverIsDeleted) {
  put(35);
  const auto receipts = receive_all(35);
  ASSERT_EQ(receipts.size(), 35u);
  ReceiveHelpers helpers(*results_, 3);
  helpers.delete_later({receipts.begin(), receipts.begin() + 20});
  helpers.delete_later({receipts.begin() + 20, receipts.end()});
  EXPECT_TRUE(helpers.finish().empty());
  EXPECT_EQ(acks(), 35);
  EXPECT_TRUE(broker_.bodies("results").empty());
}

// Given another run's results handed back (with helpers or without), each should be visible
// again at once when asked with no delay, for its own master to take.
TEST_F(ReceiveHelpersTest, ResultsLeftForAnotherRunAreVisibleAgain) {
  for (std::size_t count : {0, 2}) {
    SCOPED_TRACE("helpers: " + std::to_string(count));
    put(3);
    const auto receipts = receive_all(3);
    ASSERT_EQ(receipts.size(), 3u);
    ReceiveHelpers helpers(*results_, count);
    for (const auto& receipt : receipts) helpers.leave_later(receipt, 0s);
    helpers.finish();
    EXPECT_EQ(receive_all(3).size(), 3u) << "all three visible again";
    EXPECT_EQ(acks(), 0);
    auto state = broker_.state("results");
    std::lock_guard lock(state->mutex);
    state->messages.clear();
  }
}

// Given a backlog, helpers should receive batches until one comes back short, hold at most one per
// helper, and hand what the loop did not take back at finish() rather than lose it.
TEST_F(ReceiveHelpersTest, ABacklogIsReceivedAndWhatIsNotTakenIsHandedBack) {
  put(95);
  ReceiveHelpers helpers(*results_, 2);
  helpers.set_backlog(true);
  std::size_t taken = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (taken < 50 && std::chrono::steady_clock::now() < deadline) {
    bool busy = false;
    if (auto batch = helpers.take(100ms, busy)) taken += batch->size();
  }
  EXPECT_EQ(taken, 50u);
  std::size_t handed_back = 0;
  for (const auto& batch : helpers.finish()) handed_back += batch.size();
  EXPECT_LE(handed_back, 20u) << "at most one batch per helper is held";
  // What was neither taken nor handed back is still in the queue, in flight or visible.
  EXPECT_EQ(broker_.bodies("results").size(), 95u);
  EXPECT_EQ(acks(), 0);
}

TEST_F(ReceiveHelpersTest, AShortBatchEndsTheBacklog) {
  put(3);
  ReceiveHelpers helpers(*results_, 2);
  helpers.set_backlog(true);
  bool busy = false;
  auto batch = helpers.take(10s, busy);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->size(), 3u);
  // Once the other helper's receive (if it made one) is back, nothing is on its way.
  EXPECT_FALSE(helpers.take(10s, busy));
  EXPECT_FALSE(busy);
  put(10);
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(helpers.take(1s, busy)) << "no backlog: the loop's own long poll takes these";
  EXPECT_FALSE(busy);
  helpers.finish();
}

}  // namespace
}  // namespace tasker
