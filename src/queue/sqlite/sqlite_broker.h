#pragma once

#include <memory>
#include <string>

#include "queue/sqlite/checkpointer.h"
#include "queue/sqlite/sqlite_connection.h"
#include "queue/sqlite/wake_signal.h"
#include "tasker/queue.h"
#include "util/mutex.h"

namespace tasker::sqlite {

/// The embedded broker: any number of named queues in one SQLite file, shared safely by every
/// thread and process on the machine that opens it. Thread-safe (one connection, one mutex).
class SqliteBroker : public Broker {
 public:
  /// Opens (creating when absent) the database at `path` and its schema.
  static Expected<std::unique_ptr<SqliteBroker>> open(const std::string& path);

  Status create_queue(const std::string& name, const QueueOptions& options) override;
  Expected<std::unique_ptr<Queue>> open_queue(const std::string& name) override;
  Status delete_queue(const std::string& name) override;
  Status purge_queue(const std::string& name) override;

 private:
  SqliteBroker(std::string path, std::unique_ptr<Connection> connection,
               std::shared_ptr<WakeSignal> wake, std::shared_ptr<Checkpointer> checkpointer)
      : path_(std::move(path)),
        wake_(std::move(wake)),
        checkpointer_(std::move(checkpointer)),
        connection_(std::move(connection)) {}

  const std::string path_;
  /// Shared with every queue this broker opens, which may outlive it.
  std::shared_ptr<WakeSignal> wake_;
  std::shared_ptr<Checkpointer> checkpointer_;
  /// One statement or transaction at a time on the connection. Transaction bodies are lambdas run
  /// by in_write_transaction() under it, so each begins with mutex_.assert_held().
  Mutex mutex_;
  std::unique_ptr<Connection> connection_ GUARDED_BY(mutex_);
};

}  // namespace tasker::sqlite
