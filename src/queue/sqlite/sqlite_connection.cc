#include "queue/sqlite/sqlite_connection.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace tasker::sqlite {

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(statement_);
    statement_ = other.statement_;
    other.statement_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(statement_); }

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_blob(statement_, index);
  const int size = sqlite3_column_bytes(statement_, index);
  return text == nullptr ? std::string() : std::string(static_cast<const char*>(text), size);
}

void Statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Expected<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                       std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  const int code = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    std::string reason = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    sqlite3_close(db);
    return Error::unavailable(fmt::format(
        "sqlite:{}: cannot open the database: {}; check that the directory exists and is writable",
        path, reason));
  }
  std::unique_ptr<Connection> connection(new Connection(db, path, busy_timeout));
  sqlite3_busy_handler(db, &Connection::on_busy, connection.get());
  // WAL lets readers and one writer work at once across processes; synchronous=NORMAL in WAL
  // survives the crash of any process (the WAL is in the OS's page cache) but not a power loss,
  // which may drop the last transactions — acceptable for an at-least-once task queue.
  TASKER_TRY(connection->exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return connection;
}

Connection::~Connection() { sqlite3_close_v2(db_); }

// SQLite's own busy handler sleeps 1, 2, 5, 10 ms and more between attempts, which caps the
// throughput of two processes sharing the write lock; transactions here last tens of
// microseconds, so retry after a yield and then sleeps growing from 20 µs to 1 ms.
int Connection::on_busy(void* self, int attempts) {
  auto* connection = static_cast<Connection*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (attempts == 0) connection->busy_since_ = now;
  if (now - connection->busy_since_ >= connection->busy_timeout_) return 0;
  if (attempts < 4) {
    std::this_thread::yield();
  } else {
    const int micros = std::min(1000, 20 << std::min(attempts - 4, 6));
    std::this_thread::sleep_for(std::chrono::microseconds(micros));
  }
  return 1;
}

Error Connection::error(std::string_view what, int code) const {
  std::string message = fmt::format("sqlite:{}: {}: {}", path_, what, sqlite3_errmsg(db_));
  // SQLite says "disk I/O error" for a failed write to its -wal or -shm file; the OS says why.
  const int primary = code & 0xff;
  const bool io = primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN;
  const int system_error = io ? sqlite3_system_errno(db_) : 0;
  if (primary == SQLITE_IOERR && system_error != 0) {
    message += fmt::format(" ({})", std::strerror(system_error));
  }
  if (primary == SQLITE_FULL || system_error == ENOSPC || system_error == EDQUOT) {
    return Error::no_space(message + "; free space on the disk holding it, then run again");
  }
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::transient_failure(message + " (another process holds the database; retry)");
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Error::unavailable(message);
    default:
      return Error::internal(message);
  }
}

Status Connection::exec(const char* sql) {
  const int code = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) return error(sql, code);
  return Status::success();
}

Status Connection::run_cached(Statement& statement, const char* sql) {
  if (statement.get() == nullptr) {
    auto prepared = prepare(sql);
    if (!prepared) return prepared.error();
    statement = std::move(*prepared);
  }
  auto done = step(statement, sql);
  sqlite3_reset(statement.get());
  if (!done) return done.error();
  return Status::success();
}

Expected<Statement> Connection::prepare(const char* sql) {
  sqlite3_stmt* statement = nullptr;
  const int code = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (code != SQLITE_OK) return error(fmt::format("preparing '{}'", sql), code);
  return Statement(statement);
}

Expected<bool> Connection::step(Statement& statement, std::string_view what) {
  const int code = sqlite3_step(statement.get());
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return error(what, code);
}

}  // namespace tasker::sqlite
