// The Queue contract, written once and run against every backend (see testing/queue_backends.h
// for how a backend joins). Assertions hold on the embedded queue and on SQS alike: waits and
// visibility timeouts are whole seconds, and timing bounds leave room for SQS's long-poll unit.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>

#include "testing/queue_backends.h"

namespace tasker::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

QueueOptions with_visibility(seconds visibility) {
  QueueOptions options;
  options.visibility_timeout = visibility;
  return options;
}

std::vector<std::string> numbered(std::string_view prefix, int from, int count) {
  std::vector<std::string> bodies;
  for (int i = from; i < from + count; ++i)
    bodies.push_back(std::string(prefix) + std::to_string(i));
  return bodies;
}

void send_all(Queue& queue, const std::vector<std::string>& bodies) {
  auto statuses = queue.send(std::vector<OutgoingMessage>(bodies.begin(), bodies.end()));
  ASSERT_TRUE(statuses.ok()) << statuses.error().message;
  for (const Status& status : *statuses) ASSERT_TRUE(status.ok()) << status.error().message;
}

/// Receives until `count` messages have come or `patience` has passed (SQS may return fewer than
/// asked per call).
std::vector<Message> receive_up_to(Queue& queue, std::size_t count, seconds patience,
                                   std::optional<seconds> visibility = std::nullopt) {
  std::vector<Message> all;
  const auto deadline = Clock::now() + patience;
  while (all.size() < count && Clock::now() < deadline) {
    auto batch =
        queue.receive(std::min(count - all.size(), Queue::kMaxBatch), seconds(1), visibility);
    EXPECT_TRUE(batch.ok()) << batch.error().message;
    if (!batch) break;
    for (Message& message : *batch) all.push_back(std::move(message));
  }
  return all;
}

Message receive_one(Queue& queue, seconds wait) {
  auto received = queue.receive(1, wait);
  EXPECT_TRUE(received.ok()) << received.error().message;
  if (!received || received->size() != 1) {
    ADD_FAILURE() << "expected one message within " << wait.count() << " s";
    return {};
  }
  return std::move(received->front());
}

bool nothing_within(Queue& queue, std::chrono::milliseconds wait) {
  auto received = queue.receive(Queue::kMaxBatch, wait);
  EXPECT_TRUE(received.ok()) << received.error().message;
  return received.ok() && received->empty();
}

/// A send of one message the queue must refuse as invalid: refused whole, or its one entry.
void expect_refused_as_invalid(const Expected<std::vector<Status>>& sent) {
  if (sent.ok()) {
    ASSERT_EQ(sent->size(), 1u);
    ASSERT_FALSE(sent->front().ok());
    EXPECT_EQ(sent->front().error().kind, ErrorKind::kInvalidInput);
  } else {
    EXPECT_EQ(sent.error().kind, ErrorKind::kInvalidInput);
  }
}

std::int64_t since_ms(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

TEST_P(QueueConformanceTest, SentMessageIsReceivedOnceWithCountOne) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"hello"});
  Message message = receive_one(*queue, seconds(2));
  EXPECT_EQ(message.body, "hello");
  EXPECT_EQ(message.receive_count, 1);
  EXPECT_FALSE(message.receipt.empty());
  EXPECT_FALSE(message.message_id.empty());
  EXPECT_TRUE(nothing_within(*queue, milliseconds(0))) << "an in-flight message was handed out";
}

// Given a message received and never acked, we should see it again once its visibility timeout
// passes, under a new receipt and with a higher receive count.
TEST_P(QueueConformanceTest, UnackedMessageComesBackAfterVisibilityTimeout) {
  auto queue = make_queue(with_visibility(seconds(1)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"again"});
  Message first = receive_one(*queue, seconds(2));
  const auto received_at = Clock::now();
  EXPECT_TRUE(nothing_within(*queue, milliseconds(0)));
  Message second = receive_one(*queue, seconds(4));
  EXPECT_GE(since_ms(received_at), 800);
  EXPECT_EQ(second.body, "again");
  EXPECT_EQ(second.message_id, first.message_id);
  EXPECT_EQ(second.receive_count, 2);
  EXPECT_NE(second.receipt, first.receipt);
}

TEST_P(QueueConformanceTest, AckedMessageNeverComesBack) {
  auto queue = make_queue(with_visibility(seconds(1)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"done"});
  Message message = receive_one(*queue, seconds(2));
  auto acked = queue->ack({message.receipt});
  ASSERT_TRUE(acked.ok()) << acked.error().message;
  ASSERT_EQ(acked->size(), 1u);
  EXPECT_TRUE(acked->front().ok()) << acked->front().error().message;
  EXPECT_TRUE(nothing_within(*queue, seconds(2)));
  auto depth = queue->depth();
  ASSERT_TRUE(depth.ok()) << depth.error().message;
  EXPECT_EQ(depth->visible + depth->in_flight, 0);
}

TEST_P(QueueConformanceTest, ExtendKeepsMessageHiddenPastItsTimeout) {
  auto queue = make_queue(with_visibility(seconds(1)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"long task"});
  Message message = receive_one(*queue, seconds(2));
  Status extended = queue->extend(message.receipt, seconds(3));
  ASSERT_TRUE(extended.ok()) << extended.error().message;
  EXPECT_TRUE(nothing_within(*queue, seconds(2))) << "came back before the extended timeout";
  Message again = receive_one(*queue, seconds(3));
  EXPECT_EQ(again.body, "long task");
  EXPECT_EQ(again.receive_count, 2);
}

TEST_P(QueueConformanceTest, ReleaseMakesMessageVisibleAtOnce) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"hand back"});
  Message message = receive_one(*queue, seconds(2));
  Status released = queue->release(message.receipt);
  ASSERT_TRUE(released.ok()) << released.error().message;
  Message again = receive_one(*queue, seconds(1));
  EXPECT_EQ(again.body, "hand back");
  EXPECT_EQ(again.receive_count, 2);
}

// Given a message delivered twice, acking the first delivery's receipt must not delete it: the
// second consumer still holds it. (SQS may report success for the stale ack; both are allowed.)
TEST_P(QueueConformanceTest, StaleReceiptCannotDeleteRedeliveredMessage) {
  auto queue = make_queue(with_visibility(seconds(1)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"twice"});
  Message first = receive_one(*queue, seconds(2));
  Message second = receive_one(*queue, seconds(4));
  ASSERT_EQ(second.receive_count, 2);
  auto stale = queue->ack({first.receipt});
  ASSERT_TRUE(stale.ok()) << stale.error().message;
  if (!GetParam().strict) {
    GTEST_SKIP() << GetParam().name << " may delete with a stale receipt (SQS says it \"might not\" be deleted)";
  }

  Status released = queue->release(second.receipt);
  ASSERT_TRUE(released.ok()) << "the stale ack deleted the message: " << released.error().message;
  Message third = receive_one(*queue, seconds(2));
  EXPECT_EQ(third.body, "twice");
  EXPECT_EQ(third.receive_count, 3);
  auto acked = queue->ack({third.receipt});
  ASSERT_TRUE(acked.ok()) << acked.error().message;
  EXPECT_TRUE(acked->front().ok()) << acked->front().error().message;
}

TEST_P(QueueConformanceTest, AckReturnsOneStatusPerReceiptInOrder) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"a", "b"});
  auto messages = receive_up_to(*queue, 2, seconds(5));
  ASSERT_EQ(messages.size(), 2u);
  auto acked = queue->ack({messages[0].receipt, "not-a-receipt", messages[1].receipt});
  ASSERT_TRUE(acked.ok()) << acked.error().message;
  ASSERT_EQ(acked->size(), 3u);
  EXPECT_TRUE((*acked)[0].ok());
  // SQS refuses a malformed receipt (ReceiptHandleIsInvalid); fauxqs accepts it.
  if (GetParam().strict) {
    EXPECT_FALSE((*acked)[1].ok());
  }
  EXPECT_TRUE((*acked)[2].ok());
  auto depth = queue->depth();
  ASSERT_TRUE(depth.ok()) << depth.error().message;
  EXPECT_EQ(depth->visible + depth->in_flight, 0);
}

TEST_P(QueueConformanceTest, BatchesOverTenOrEmptyAreRefusedWhole) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  const std::vector<std::string> eleven = numbered("m", 0, 11);
  auto too_many = queue->send(std::vector<OutgoingMessage>(eleven.begin(), eleven.end()));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().kind, ErrorKind::kInvalidInput);
  auto none = queue->send({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(queue->receive(0, seconds(0)).error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(queue->receive(11, seconds(0)).error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(queue->ack(std::vector<std::string>(11, "x")).error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(queue->ack({}).error().kind, ErrorKind::kInvalidInput);
  EXPECT_TRUE(nothing_within(*queue, milliseconds(0))) << "part of a refused batch was sent";

  send_all(*queue, numbered("m", 0, 10));
  auto messages = receive_up_to(*queue, 10, seconds(10));
  std::set<std::string> bodies;
  for (const Message& message : messages) bodies.insert(message.body);
  EXPECT_EQ(bodies.size(), 10u);
}

TEST_P(QueueConformanceTest, OversizedBodyIsNeverDelivered) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  const std::string oversized(262145, 'x');
  expect_refused_as_invalid(queue->send({oversized}));
  EXPECT_TRUE(nothing_within(*queue, seconds(1)));
}

// Given messages sent with attributes, with none, and in one batch, we should receive each body
// unchanged and exactly its own attributes back, on every delivery.
TEST_P(QueueConformanceTest, AttributesRoundTripBesideTheBody) {
  auto queue = make_queue(with_visibility(seconds(1)));
  ASSERT_NE(queue, nullptr);
  const std::string signed_body = R"({"id":"t1","image":"busybox","arguments":"echo hi"})";
  const MessageAttributes signed_attributes = {
      {"tasker-signature", "v1=" + std::string(64, 'a')}, {"origin", "master-1 \u00e9t\u00e9"}};
  const MessageAttributes other_attributes = {{"z.last", "2"}, {"A_first", "1"}};
  std::vector<OutgoingMessage> batch = {OutgoingMessage(signed_body, signed_attributes),
                                        OutgoingMessage("plain"),
                                        OutgoingMessage("other", other_attributes)};
  auto sent = queue->send(batch);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  for (const Status& status : *sent) ASSERT_TRUE(status.ok()) << status.error().message;

  for (int delivery = 1; delivery <= 2; ++delivery) {
    std::map<std::string, MessageAttributes> by_body;
    for (const Message& message : receive_up_to(*queue, 3, seconds(10))) {
      by_body[message.body] = message.attributes;
      EXPECT_EQ(message.receive_count, delivery);
    }
    ASSERT_EQ(by_body.size(), 3u) << "delivery " << delivery;
    EXPECT_EQ(by_body[signed_body], signed_attributes);
    EXPECT_TRUE(by_body["plain"].empty());
    EXPECT_EQ(by_body["other"], other_attributes);
  }
}

// Given attributes SQS would refuse (a reserved or malformed name, an empty value, or a message
// over 256 KiB only because of its attributes), we should see that entry refused and the rest
// of the batch sent.
TEST_P(QueueConformanceTest, InvalidAttributesAreRefusedPerEntry) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  const std::string near_limit(262144 - 100, 'x');
  std::vector<OutgoingMessage> batch = {
      OutgoingMessage("reserved", {{"AWS.trace", "x"}}),
      OutgoingMessage("bad name", {{"a b", "x"}}),
      OutgoingMessage("empty value", {{"name", ""}}),
      OutgoingMessage("good", {{"name", "value"}}),
  };
  auto sent = queue->send(batch);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_EQ(sent->size(), 4u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE((*sent)[i].ok()) << batch[i].body;
    EXPECT_EQ((*sent)[i].error().kind, ErrorKind::kInvalidInput);
  }
  EXPECT_TRUE((*sent)[3].ok()) << (*sent)[3].error().message;

  // The body alone fits; with its attribute (name, type "String" and value) it does not.
  expect_refused_as_invalid(
      queue->send({OutgoingMessage(near_limit, {{"signature", std::string(100, 'v')}})}));

  Message message = receive_one(*queue, seconds(2));
  EXPECT_EQ(message.body, "good");
  EXPECT_TRUE(nothing_within(*queue, seconds(1)));
}

TEST_P(QueueConformanceTest, MessageMovesToDeadLetterQueueAfterMaxReceiveCount) {
  QueueOptions options = with_visibility(seconds(30));
  options.dead_letter_queue = unique_queue_name("dlq");
  options.max_receive_count = 2;
  auto queue = make_queue(options);
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"poison"});
  for (int delivery = 1; delivery <= 2; ++delivery) {
    Message message = receive_one(*queue, seconds(2));
    EXPECT_EQ(message.receive_count, delivery);
    ASSERT_TRUE(queue->release(message.receipt).ok());
  }
  EXPECT_TRUE(nothing_within(*queue, seconds(1))) << "delivered beyond max_receive_count";
  auto dead_letters = broker_->open_queue(*options.dead_letter_queue);
  ASSERT_TRUE(dead_letters.ok()) << dead_letters.error().message;
  Message dead = receive_one(**dead_letters, seconds(2));
  EXPECT_EQ(dead.body, "poison");
}

TEST_P(QueueConformanceTest, OneSendersMessagesArriveInSendOrderWhereOrdered) {
  if (!GetParam().ordered) GTEST_SKIP() << GetParam().name << " does not promise an order";
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  for (int batch = 0; batch < 3; ++batch) send_all(*queue, numbered("m", batch * 10, 10));
  std::vector<std::string> bodies;
  for (const Message& message : receive_up_to(*queue, 30, seconds(10))) {
    bodies.push_back(message.body);
  }
  EXPECT_EQ(bodies, numbered("m", 0, 30));
}

TEST_P(QueueConformanceTest, LongPollReturnsEarlyWhenMessageArrives) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  auto sender = broker_->open_queue(queue->name());
  ASSERT_TRUE(sender.ok()) << sender.error().message;
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(300));
    send_all(**sender, {"wake up"});
  });
  const auto start = Clock::now();
  auto received = queue->receive(1, seconds(10));
  const auto elapsed = since_ms(start);
  producer.join();
  ASSERT_TRUE(received.ok()) << received.error().message;
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ(received->front().body, "wake up");
  EXPECT_LT(elapsed, 3000) << "the long poll did not return when the message arrived";
}

TEST_P(QueueConformanceTest, LongPollWaitsOutItsWaitWhenNothingArrives) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  const auto start = Clock::now();
  auto received = queue->receive(1, seconds(1));
  ASSERT_TRUE(received.ok()) << received.error().message;
  EXPECT_TRUE(received->empty());
  EXPECT_GE(since_ms(start), 900);
  EXPECT_LT(since_ms(start), 5000);
}

// Given a consumer in a long poll on an empty queue, a stop should end the call at once with
// nothing, and a stop made before the call should keep it from waiting at all: a stopping agent
// is not held up by its poll (SQS waits up to 20 s). On SQS the server may still serve the poll
// that was given up: a message sent before its wait would have ended can be taken by it and come
// back only after its visibility (2 s here), which is what the last receive allows for.
TEST_P(QueueConformanceTest, StopCutsALongPollShort) {
  auto queue = make_queue(with_visibility(seconds(2)));
  ASSERT_NE(queue, nullptr);
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(300));
    stop.request_stop();
  });
  const auto start = Clock::now();
  auto received = queue->receive(1, seconds(20), std::nullopt, stop.get_token());
  const auto elapsed = since_ms(start);
  stopper.join();
  ASSERT_TRUE(received.ok()) << received.error().message;
  EXPECT_TRUE(received->empty());
  EXPECT_LT(elapsed, 5000) << "the long poll waited on after the stop";

  const auto again = Clock::now();
  auto after = queue->receive(1, seconds(20), std::nullopt, stop.get_token());
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_TRUE(after->empty());
  EXPECT_LT(since_ms(again), 5000) << "a receive after the stop waited";
  // The queue still serves a consumer that was not stopped.
  send_all(*queue, {"still here"});
  EXPECT_EQ(receive_one(*queue, seconds(15)).body, "still here");
}

// Given several consumers (each its own Queue object, as separate agents are), we should see
// every message handed to exactly one of them.
TEST_P(QueueConformanceTest, ConcurrentConsumersEachGetDistinctMessages) {
  constexpr int kMessages = 60;
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  for (int batch = 0; batch < kMessages / 10; ++batch)
    send_all(*queue, numbered("m", batch * 10, 10));

  std::mutex mutex;
  std::map<std::string, int> deliveries;  // guarded by mutex
  // Distinct messages seen: consumers stop on these, not on deliveries, so a duplicate cannot
  // stand in for a message not yet received.
  std::atomic<int> distinct{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < 3; ++c) {
    consumers.emplace_back([&] {
      auto own = broker_->open_queue(queue->name());
      ASSERT_TRUE(own.ok()) << own.error().message;
      const auto deadline = Clock::now() + seconds(20);
      while (distinct.load() < kMessages && Clock::now() < deadline) {
        auto batch = (*own)->receive(Queue::kMaxBatch, seconds(1));
        ASSERT_TRUE(batch.ok()) << batch.error().message;
        std::vector<std::string> receipts;
        for (const Message& message : *batch) {
          receipts.push_back(message.receipt);
          std::lock_guard lock(mutex);
          if (++deliveries[message.body] == 1) ++distinct;
        }
        if (!receipts.empty()) {
          ASSERT_TRUE((*own)->ack(receipts).ok());
        }
      }
    });
  }
  for (std::thread& consumer : consumers) consumer.join();
  EXPECT_EQ(deliveries.size(), static_cast<std::size_t>(kMessages));
  if (GetParam().strict) {
    for (const auto& [body, count] : deliveries) EXPECT_EQ(count, 1) << body << " delivered twice";
  } else {
    // At least once: a rare duplicate is allowed (moto does not lock receives), a flood is not.
    int duplicates = 0;
    for (const auto& [body, count] : deliveries) duplicates += count - 1;
    EXPECT_LE(duplicates, kMessages / 10) << "most messages went to more than one consumer";
  }
}

TEST_P(QueueConformanceTest, DepthCountsVisibleAndInFlight) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"a", "b", "c"});
  auto one = receive_up_to(*queue, 1, seconds(3));
  ASSERT_EQ(one.size(), 1u);
  auto depth = queue->depth();
  ASSERT_TRUE(depth.ok()) << depth.error().message;
  EXPECT_EQ(depth->visible, 2);
  EXPECT_EQ(depth->in_flight, 1);
}

TEST_P(QueueConformanceTest, OpeningAMissingQueueIsNotFound) {
  auto queue = broker_->open_queue(unique_queue_name("missing"));
  ASSERT_FALSE(queue.ok());
  EXPECT_EQ(queue.error().kind, ErrorKind::kNotFound) << queue.error().message;
}

TEST_P(QueueConformanceTest, CreatingAnExistingQueueKeepsItsMessages) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"kept"});
  Status again = broker_->create_queue(queue->name(), with_visibility(seconds(30)));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(receive_one(*queue, seconds(2)).body, "kept");
}

TEST_P(QueueConformanceTest, PurgeRemovesEveryMessageAndKeepsTheQueue) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  send_all(*queue, {"a", "b", "c"});
  Status purged = broker_->purge_queue(queue->name());
  ASSERT_TRUE(purged.ok()) << purged.error().message;
  auto depth = queue->depth();
  ASSERT_TRUE(depth.ok()) << depth.error().message;
  EXPECT_EQ(depth->visible + depth->in_flight, 0);
  send_all(*queue, {"after"});
  EXPECT_EQ(receive_one(*queue, seconds(2)).body, "after");
}

TEST_P(QueueConformanceTest, DeletedQueueCannotBeOpened) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  Status deleted = broker_->delete_queue(queue->name());
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  auto reopened = broker_->open_queue(queue->name());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().kind, ErrorKind::kNotFound) << reopened.error().message;
}

TEST_P(QueueConformanceTest, VisibilityOutsideZeroToTwelveHoursIsInvalid) {
  auto queue = make_queue(with_visibility(seconds(30)));
  ASSERT_NE(queue, nullptr);
  auto received = queue->receive(1, seconds(0), seconds(43201));
  ASSERT_FALSE(received.ok());
  EXPECT_EQ(received.error().kind, ErrorKind::kInvalidInput);
  send_all(*queue, {"x"});
  Message message = receive_one(*queue, seconds(2));
  Status extended = queue->extend(message.receipt, seconds(-1));
  ASSERT_FALSE(extended.ok());
  EXPECT_EQ(extended.error().kind, ErrorKind::kInvalidInput);
}

}  // namespace
}  // namespace tasker::testing
