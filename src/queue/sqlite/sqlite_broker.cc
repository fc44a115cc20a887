#include "queue/sqlite/sqlite_broker.h"

#include <fmt/format.h>

#include "queue/queue_rules.h"
#include "queue/sqlite/sqlite_queue.h"

namespace tasker::sqlite {
namespace {

constexpr std::chrono::milliseconds kBusyTimeout{10000};
// Version 2 added messages.attributes (SQS-style message attributes, a JSON object).
constexpr int kSchemaVersion = 2;

// Messages are ordered for delivery by (visible_at_ms, id): the index serves the receive query,
// the depth count and the cascade on queue deletion. The AUTOINCREMENT keeps ids (and so
// message ids and receipts) from ever being reused after a delete.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS queues(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  visibility_ms INTEGER NOT NULL,
  dead_letter_queue_id INTEGER REFERENCES queues(id) ON DELETE SET NULL,
  max_receive_count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue_id INTEGER NOT NULL REFERENCES queues(id) ON DELETE CASCADE,
  body BLOB NOT NULL,
  visible_at_ms INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt_token INTEGER NOT NULL DEFAULT 0,
  sent_at_ms INTEGER NOT NULL,
  attributes TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages(queue_id, visible_at_ms, id);
)sql";

// Brings a version 1 database (no attributes column) to version 2 in place; its messages keep
// their place and read as having no attributes.
constexpr const char* kAddAttributes = "ALTER TABLE messages ADD COLUMN attributes TEXT";

Status check_name(const std::string& name) {
  if (name.find("://") != std::string::npos) {
    return Error::invalid(fmt::format("queue {} is a URL: the SQLite broker opens queues by name",
                                      quote_for_message(name)));
  }
  return validate_queue_name(name);
}

Expected<std::int64_t> read_schema_version(Connection& db) {
  auto version = db.prepare("PRAGMA user_version");
  if (!version) return version.error();
  auto row = db.step(*version, "reading the schema version");
  if (!row) return row.error();
  return version->column_int(0);
}

}  // namespace

Expected<std::unique_ptr<SqliteBroker>> SqliteBroker::open(const std::string& path) {
  if (path.empty() || path == ":memory:") {
    return Error::invalid(fmt::format(
        "sqlite database path {} is not a file: queues are shared through a file, give a path",
        quote_for_message(path)));
  }
  auto connection = Connection::open(path, kBusyTimeout);
  if (!connection) return connection.error();
  Connection& db = **connection;

  // The version is read inside the write transaction that migrates, so two processes opening
  // an old file together migrate it once: the second sees the first's version.
  TASKER_TRY(in_write_transaction(db, [&]() -> Status {
    auto found_version = read_schema_version(db);
    if (!found_version) return found_version.error();
    if (*found_version > kSchemaVersion) {
      return Error::invalid(fmt::format(
          "sqlite:{}: the queue database has schema version {}, newer than this tasker's {}; "
          "upgrade tasker",
          path, *found_version, kSchemaVersion));
    }
    TASKER_TRY(db.exec(kSchema));
    if (*found_version == 1) TASKER_TRY(db.exec(kAddAttributes));
    if (*found_version < kSchemaVersion) {
      TASKER_TRY(db.exec(fmt::format("PRAGMA user_version = {}", kSchemaVersion).c_str()));
    }
    return Status::success();
  }));

  auto wake = WakeSignal::open(path);
  if (!wake) return wake.error();
  auto checkpointer = Checkpointer::start(path);
  if (!checkpointer) return checkpointer.error();
  (*checkpointer)->watch(db);
  return std::unique_ptr<SqliteBroker>(
      new SqliteBroker(path, std::move(*connection), std::move(*wake), std::move(*checkpointer)));
}

Status SqliteBroker::create_queue(const std::string& name, const QueueOptions& options) {
  TASKER_TRY(check_name(name));
  TASKER_TRY(validate_visibility(options.visibility_timeout));
  if (options.dead_letter_queue) {
    TASKER_TRY(check_name(*options.dead_letter_queue));
    TASKER_TRY(validate_max_receive_count(options.max_receive_count));
    if (*options.dead_letter_queue == name) {
      return Error::invalid(
          fmt::format("queue {} cannot be its own dead-letter queue", quote_for_message(name)));
    }
  }
  MutexLock lock(mutex_);
  auto insert = connection_->prepare(
      "INSERT OR IGNORE INTO queues(name, visibility_ms, dead_letter_queue_id, max_receive_count) "
      "VALUES(?1, ?2, (SELECT id FROM queues WHERE name = ?3), ?4)");
  if (!insert) return insert.error();
  const std::int64_t visibility_ms = options.visibility_timeout.count() * 1000;
  return in_write_transaction(*connection_, [&]() -> Status {
    mutex_.assert_held();
    // The dead-letter queue first (an existing one is kept), so the queue can refer to it.
    if (options.dead_letter_queue) {
      insert->bind(1, *options.dead_letter_queue);
      insert->bind(2, visibility_ms);
      insert->bind_null(3);
      insert->bind(4, options.max_receive_count);
      auto done = connection_->step(*insert, "creating the dead-letter queue");
      insert->reset();
      if (!done) return done.error();
      insert->bind(3, *options.dead_letter_queue);
    }
    insert->bind(1, name);
    insert->bind(2, visibility_ms);
    insert->bind(4, options.max_receive_count);
    auto done = connection_->step(*insert, "creating the queue");
    insert->reset();
    if (!done) return done.error();
    return Status::success();
  });
}

Expected<std::unique_ptr<Queue>> SqliteBroker::open_queue(const std::string& name) {
  TASKER_TRY(check_name(name));
  auto queue = SqliteQueue::open(path_, name, wake_, checkpointer_);
  if (!queue) return queue.error();
  return std::unique_ptr<Queue>(std::move(*queue));
}

Status SqliteBroker::delete_queue(const std::string& name) {
  TASKER_TRY(check_name(name));
  MutexLock lock(mutex_);
  auto remove = connection_->prepare("DELETE FROM queues WHERE name = ?1");
  if (!remove) return remove.error();
  remove->bind(1, name);
  return in_write_transaction(*connection_, [&]() -> Status {
    mutex_.assert_held();
    auto done = connection_->step(*remove, "deleting the queue");
    if (!done) return done.error();
    if (connection_->changes() == 0) {
      return Error::not_found(
          fmt::format("queue {} does not exist in sqlite:{}", quote_for_message(name), path_));
    }
    return Status::success();
  });
}

Status SqliteBroker::purge_queue(const std::string& name) {
  TASKER_TRY(check_name(name));
  MutexLock lock(mutex_);
  auto find = connection_->prepare("SELECT id FROM queues WHERE name = ?1");
  auto purge = connection_->prepare("DELETE FROM messages WHERE queue_id = ?1");
  if (!find) return find.error();
  if (!purge) return purge.error();
  find->bind(1, name);
  return in_write_transaction(*connection_, [&]() -> Status {
    mutex_.assert_held();
    auto found = connection_->step(*find, "looking up the queue");
    if (!found) return found.error();
    if (!*found) {
      return Error::not_found(
          fmt::format("queue {} does not exist in sqlite:{}", quote_for_message(name), path_));
    }
    purge->bind(1, find->column_int(0));
    find->reset();
    auto done = connection_->step(*purge, "purging the queue");
    if (!done) return done.error();
    return Status::success();
  });
}

}  // namespace tasker::sqlite
