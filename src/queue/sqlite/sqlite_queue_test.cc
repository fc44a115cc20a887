#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <map>
#include <thread>

#include "queue/sqlite/sqlite_broker.h"
#include "testing/queue_backends.h"

namespace tasker::sqlite {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::int64_t since_ms(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

class SqliteQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteBroker> open_broker() {
    auto broker = SqliteBroker::open(path_);
    EXPECT_TRUE(broker.ok()) << broker.error().message;
    return broker.ok() ? std::move(*broker) : nullptr;
  }

  std::unique_ptr<Queue> make_queue(Broker& broker, const std::string& name,
                                    seconds visibility = seconds(30)) {
    QueueOptions options;
    options.visibility_timeout = visibility;
    Status created = broker.create_queue(name, options);
    EXPECT_TRUE(created.ok()) << created.error().message;
    auto queue = broker.open_queue(name);
    EXPECT_TRUE(queue.ok()) << queue.error().message;
    return queue.ok() ? std::move(*queue) : nullptr;
  }

  static Message receive_one(Queue& queue, milliseconds wait = milliseconds(1000)) {
    auto received = queue.receive(1, wait);
    EXPECT_TRUE(received.ok()) << received.error().message;
    if (!received || received->size() != 1) {
      ADD_FAILURE() << "expected one message";
      return {};
    }
    return received->front();
  }

  static void send(Queue& queue, const std::vector<OutgoingMessage>& bodies) {
    auto sent = queue.send(bodies);
    ASSERT_TRUE(sent.ok()) << sent.error().message;
    for (const Status& status : *sent) ASSERT_TRUE(status.ok()) << status.error().message;
  }

  tasker::testing::TempDir directory_;
  std::string path_ = directory_.file("queue.db");
};

TEST_F(SqliteQueueTest, MessagesSurviveClosingAndReopeningTheDatabase) {
  {
    auto broker = open_broker();
    auto queue = make_queue(*broker, "tasks");
    send(*queue, {"persisted"});
  }
  auto broker = open_broker();
  auto queue = broker->open_queue("tasks");
  ASSERT_TRUE(queue.ok()) << queue.error().message;
  EXPECT_EQ(receive_one(**queue).body, "persisted");
}

// Given two brokers on one file (as two processes have), a receiver waiting on one should wake
// as soon as the other sends, without waiting out a poll interval.
TEST_F(SqliteQueueTest, WaitingReceiverWakesPromptlyOnAnotherConnectionsSend) {
  auto receiving_broker = open_broker();
  auto sending_broker = open_broker();
  auto receiver = make_queue(*receiving_broker, "tasks");
  auto sender = sending_broker->open_queue("tasks");
  ASSERT_TRUE(sender.ok());
  Clock::time_point sent_at;
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(200));
    sent_at = Clock::now();
    send(**sender, {"ping"});
  });
  auto received = receiver->receive(1, seconds(5));
  const auto woke_at = Clock::now();
  producer.join();
  ASSERT_TRUE(received.ok()) << received.error().message;
  ASSERT_EQ(received->size(), 1u);
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(woke_at - sent_at).count(), 50);
}

TEST_F(SqliteQueueTest, WaitingReceiverWakesWhenAnInFlightMessageExpires) {
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks", seconds(1));
  send(*queue, {"expiring"});
  receive_one(*queue);
  const auto start = Clock::now();
  Message again = receive_one(*queue, milliseconds(5000));
  EXPECT_EQ(again.body, "expiring");
  EXPECT_GE(since_ms(start), 900);
  EXPECT_LT(since_ms(start), 1300) << "woke long after the message became visible";
}

TEST_F(SqliteQueueTest, ReleaseWakesAWaitingReceiverAtOnce) {
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks");
  send(*queue, {"held"});
  Message held = receive_one(*queue);
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(100));
    ASSERT_TRUE(queue->release(held.receipt).ok());
  });
  const auto start = Clock::now();
  Message again = receive_one(*queue, milliseconds(5000));
  releaser.join();
  EXPECT_EQ(again.receive_count, 2);
  EXPECT_LT(since_ms(start), 150);
}

TEST_F(SqliteQueueTest, StaleReceiptIsRefusedForAckExtendAndRelease) {
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks");
  send(*queue, {"m"});
  Message first = receive_one(*queue);
  ASSERT_TRUE(queue->release(first.receipt).ok());
  Message second = receive_one(*queue);

  auto acked = queue->ack({first.receipt});
  ASSERT_TRUE(acked.ok());
  ASSERT_FALSE(acked->front().ok());
  EXPECT_EQ(acked->front().error().kind, ErrorKind::kNotFound);
  EXPECT_NE(acked->front().error().message.find("is stale"), std::string::npos)
      << acked->front().error().message;
  EXPECT_FALSE(queue->extend(first.receipt, seconds(60)).ok());
  EXPECT_FALSE(queue->release(first.receipt).ok());
  EXPECT_TRUE(queue->extend(second.receipt, seconds(60)).ok());
}

TEST_F(SqliteQueueTest, AckingAnAlreadyDeletedMessageSucceeds) {
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks");
  send(*queue, {"m"});
  Message message = receive_one(*queue);
  ASSERT_TRUE(queue->ack({message.receipt})->front().ok());
  auto again = queue->ack({message.receipt});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->front().ok());
  Status extended = queue->extend(message.receipt, seconds(5));
  ASSERT_FALSE(extended.ok());
  EXPECT_NE(extended.error().message.find("no longer in queue 'tasks'"), std::string::npos)
      << extended.error().message;
}

TEST_F(SqliteQueueTest, ReceiptOfAnotherQueueOrMalformedIsInvalid) {
  auto broker = open_broker();
  auto tasks = make_queue(*broker, "tasks");
  auto results = make_queue(*broker, "results");
  send(*tasks, {"m"});
  Message message = receive_one(*tasks);
  Status wrong_queue = results->release(message.receipt);
  ASSERT_FALSE(wrong_queue.ok());
  EXPECT_EQ(wrong_queue.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(wrong_queue.error().message.find("belongs to another queue, not 'results'"),
            std::string::npos)
      << wrong_queue.error().message;
  for (const char* garbage : {"", "1:2", "x:y:z", "1:2:3:4"}) {
    Status status = tasks->release(garbage);
    ASSERT_FALSE(status.ok()) << garbage;
    EXPECT_EQ(status.error().kind, ErrorKind::kInvalidInput) << garbage;
  }
}

TEST_F(SqliteQueueTest, SendingToADeletedQueueIsNotFound) {
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks");
  ASSERT_TRUE(broker->delete_queue("tasks").ok());
  auto sent = queue->send({"lost?"});
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(sent.error().message.find("'tasks' was deleted"), std::string::npos)
      << sent.error().message;
  auto received = queue->receive(1, milliseconds(0));
  ASSERT_FALSE(received.ok());
  EXPECT_EQ(received.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(broker->delete_queue("tasks").error().kind, ErrorKind::kNotFound);
}

TEST_F(SqliteQueueTest, BatchOverTheTotalSizeLimitIsRefusedWhole) {
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks");
  auto sent = queue->send({std::string(200000, 'a'), std::string(200000, 'b')});
  ASSERT_FALSE(sent.ok());
  EXPECT_NE(sent.error().message.find("400000 bytes"), std::string::npos) << sent.error().message;
  auto depth = queue->depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->visible, 0);
}

TEST_F(SqliteQueueTest, EmptyBodyFailsAloneInItsBatch) {
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks");
  auto sent = queue->send({"a", "", "c"});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_TRUE((*sent)[0].ok());
  EXPECT_FALSE((*sent)[1].ok());
  EXPECT_TRUE((*sent)[2].ok());
  EXPECT_EQ(queue->depth()->visible, 2);
}

TEST_F(SqliteQueueTest, CreateQueueRefusesBadSettingsWithTheReason) {
  auto broker = open_broker();
  QueueOptions options;
  EXPECT_NE(broker->create_queue("bad name", options).error().message.find("' '"),
            std::string::npos);
  options.visibility_timeout = seconds(43201);
  EXPECT_NE(broker->create_queue("q", options).error().message.find("43201 s"), std::string::npos);
  options.visibility_timeout = seconds(30);
  options.dead_letter_queue = "q";
  EXPECT_NE(broker->create_queue("q", options).error().message.find("its own dead-letter"),
            std::string::npos);
  options.dead_letter_queue = "q-dlq";
  options.max_receive_count = 0;
  EXPECT_NE(broker->create_queue("q", options).error().message.find("max receive count 0"),
            std::string::npos);
  EXPECT_EQ(broker->open_queue("q").error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(broker->open_queue("http://h/1/q").error().kind, ErrorKind::kInvalidInput);
}

TEST_F(SqliteQueueTest, MemoryDatabaseAndMissingDirectoryAreRefusedByName) {
  auto memory = SqliteBroker::open(":memory:");
  ASSERT_FALSE(memory.ok());
  EXPECT_EQ(memory.error().kind, ErrorKind::kInvalidInput);
  const std::string missing = directory_.file("no/such/dir/q.db");
  auto broker = SqliteBroker::open(missing);
  ASSERT_FALSE(broker.ok());
  EXPECT_NE(broker.error().message.find(missing), std::string::npos) << broker.error().message;
}

TEST_F(SqliteQueueTest, DatabaseFromANewerTaskerIsRefused) {
  open_broker();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto broker = SqliteBroker::open(path_);
  ASSERT_FALSE(broker.ok());
  EXPECT_NE(broker.error().message.find("schema version 99"), std::string::npos)
      << broker.error().message;
}

// The schema tasker wrote before messages had attributes (version 1), verbatim.
constexpr const char* kVersion1Schema = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE queues(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  visibility_ms INTEGER NOT NULL,
  dead_letter_queue_id INTEGER REFERENCES queues(id) ON DELETE SET NULL,
  max_receive_count INTEGER NOT NULL
);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue_id INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
  body BLOB NOT NULL,
  visible_at_ms INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt_token INTEGER NOT NULL DEFAULT 0,
  sent_at_ms INTEGER NOT NULL
);
CREATE INDEX messages_by_visibility ON messages(queue_id, visible_at_ms, id);
PRAGMA user_version = 1;
INSERT INTO queues(name, visibility_ms, max_receive_count) VALUES('tasks', 30000, 5);
INSERT INTO messages(queue_id, body, visible_at_ms, sent_at_ms) VALUES(1, 'from before', 0, 0);
)sql";

std::int64_t schema_version(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &statement, nullptr);
  sqlite3_step(statement);
  const std::int64_t version = sqlite3_column_int64(statement, 0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return version;
}

// Given a queue file written by a tasker from before attributes, with a message waiting, we
// should open it, migrate it in place to the current version, deliver the old message (without
// attributes), and carry attributes for new ones.
TEST_F(SqliteQueueTest, OpensAndMigratesAVersion1Database) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db, kVersion1Schema, nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_close(db);
  }
  ASSERT_EQ(schema_version(path_), 1);

  auto broker = open_broker();
  ASSERT_NE(broker, nullptr);
  EXPECT_EQ(schema_version(path_), 2);
  auto queue = broker->open_queue("tasks");
  ASSERT_TRUE(queue.ok()) << queue.error().message;
  Message old = receive_one(**queue);
  EXPECT_EQ(old.body, "from before");
  EXPECT_TRUE(old.attributes.empty());

  auto sent = (*queue)->send({OutgoingMessage("new", {{"tasker-signature", "v1=abc"}})});
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  ASSERT_TRUE(sent->front().ok()) << sent->front().error().message;
  Message fresh = receive_one(**queue);
  EXPECT_EQ(fresh.body, "new");
  EXPECT_EQ(fresh.attributes, (MessageAttributes{{"tasker-signature", "v1=abc"}}));

  // Opening it again leaves the migrated file as it is.
  queue->reset();
  broker.reset();
  EXPECT_NE(open_broker(), nullptr);
  EXPECT_EQ(schema_version(path_), 2);
}

// Given one Queue object shared by several threads (poller, heartbeat, publisher), we should see
// every message delivered once, and a receive waiting for messages never block the senders.
TEST_F(SqliteQueueTest, OneQueueObjectServesManyThreadsAtOnce) {
  constexpr int kProducers = 4;
  constexpr int kEach = 50;
  auto broker = open_broker();
  auto queue = make_queue(*broker, "tasks");
  std::map<std::string, int> seen;  // only the consumer thread writes it until joined
  std::thread consumer([&] {
    const auto start = Clock::now();
    int total = 0;
    while (total < kProducers * kEach && since_ms(start) < 10000) {
      auto batch = queue->receive(10, milliseconds(500));
      ASSERT_TRUE(batch.ok()) << batch.error().message;
      std::vector<std::string> receipts;
      for (const Message& message : *batch) {
        ++seen[message.body];
        receipts.push_back(message.receipt);
      }
      total += static_cast<int>(batch->size());
      if (!receipts.empty()) {
        ASSERT_TRUE(queue->ack(receipts).ok());
      }
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) send(*queue, {std::to_string(p) + "-" + std::to_string(i)});
    });
  }
  for (auto& producer : producers) producer.join();
  consumer.join();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kProducers * kEach));
  for (const auto& [body, count] : seen) EXPECT_EQ(count, 1) << body;
}

}  // namespace
}  // namespace tasker::sqlite
