#pragma once

#include <memory>
#include <string>
#include <thread>

#include "queue/sqlite/sqlite_connection.h"
#include "util/mutex.h"

namespace tasker::sqlite {

/// Copies the write-ahead log back into the database file on a background thread of its own.
///
/// Why: SQLite checkpoints in the thread whose commit filled the WAL, and a checkpoint fsyncs
/// twice; on this kind of disk that stalled a send for tens of milliseconds (the p99 of the
/// wake-up latency) and cost a third of the throughput. Here commits never fsync, and the
/// checkpoint runs beside the writers (a PASSIVE checkpoint takes no writer lock).
class Checkpointer {
 public:
  /// Opens a connection of its own to `path` and starts the thread.
  static Expected<std::shared_ptr<Checkpointer>> start(const std::string& path);
  /// Stops the thread; call only when no watched connection is left.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  /// Turns off `connection`'s own checkpoints and has its commits wake this thread instead.
  void watch(Connection& connection);

 private:
  explicit Checkpointer(std::unique_ptr<Connection> connection);
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run() EXCLUDES(mutex_);

  Mutex mutex_;
  CondVar changed_;
  bool wanted_ GUARDED_BY(mutex_) = false;
  bool stopping_ GUARDED_BY(mutex_) = false;
  /// Used only by the thread.
  std::unique_ptr<Connection> connection_;
  std::thread thread_;
};

}  // namespace tasker::sqlite
