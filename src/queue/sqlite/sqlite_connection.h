#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tasker/error.h"

namespace tasker::sqlite {

/// One prepared statement, reset after every use so it can be run again.
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* statement) : statement_(statement) {}
  Statement(Statement&& other) noexcept : statement_(other.statement_) {
    other.statement_ = nullptr;
  }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  sqlite3_stmt* get() const { return statement_; }

  void bind(int index, std::int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  void bind(int index, std::string_view value) {
    sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
  }
  void bind_null(int index) { sqlite3_bind_null(statement_, index); }

  std::int64_t column_int(int index) const { return sqlite3_column_int64(statement_, index); }
  bool column_is_null(int index) const {
    return sqlite3_column_type(statement_, index) == SQLITE_NULL;
  }
  std::string column_text(int index) const;

  /// Clears bindings and rewinds, ready for the next use.
  void reset();

 private:
  sqlite3_stmt* statement_ = nullptr;
};

/// One SQLite connection configured for tasker's queues: WAL, synchronous=NORMAL, foreign keys,
/// and a busy handler that retries with short sleeps for up to `busy_timeout`. Not thread-safe:
/// the owner guards it.
class Connection {
 public:
  /// Opens (creating when absent) the database file at `path`.
  static Expected<std::unique_ptr<Connection>> open(const std::string& path,
                                                    std::chrono::milliseconds busy_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  /// Runs SQL that returns no rows (may hold several statements).
  Status exec(const char* sql);

  /// BEGIN IMMEDIATE, COMMIT and ROLLBACK, prepared once (a transaction per call is the hot path).
  Status begin_immediate() { return run_cached(begin_, "BEGIN IMMEDIATE"); }
  Status commit() { return run_cached(commit_, "COMMIT"); }
  void rollback() { run_cached(rollback_, "ROLLBACK"); }

  /// Prepares one statement.
  Expected<Statement> prepare(const char* sql);

  /// Steps a statement: true for a row, false when done, or an Error.
  Expected<bool> step(Statement& statement, std::string_view what);

  /// Rows changed by the last statement.
  std::int64_t changes() const { return sqlite3_changes64(db_); }

  /// An Error for the connection's last failure, saying what was being done.
  Error error(std::string_view what, int code) const;

 private:
  Connection(sqlite3* db, std::string path, std::chrono::milliseconds busy_timeout)
      : db_(db), path_(std::move(path)), busy_timeout_(busy_timeout) {}
  static int on_busy(void* self, int attempts);
  Status run_cached(Statement& statement, const char* sql);

  sqlite3* db_;
  std::string path_;
  std::chrono::milliseconds busy_timeout_;
  std::chrono::steady_clock::time_point busy_since_{};
  Statement begin_, commit_, rollback_;
};

/// Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back when it fails.
template <class Body>
Status in_write_transaction(Connection& connection, Body&& body) {
  TASKER_TRY(connection.begin_immediate());
  Status result = body();
  if (!result) {
    connection.rollback();
    return result;
  }
  Status committed = connection.commit();
  if (!committed) connection.rollback();
  return committed;
}

/// Milliseconds since the Unix epoch: the clock every process sharing a database agrees on.
std::int64_t wall_clock_ms();

}  // namespace tasker::sqlite
