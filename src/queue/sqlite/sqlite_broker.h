#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "queue/sqlite/sqlite_connection.h"
#include "queue/sqlite/wake_signal.h"
#include "tasker/queue.h"

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
               std::shared_ptr<WakeSignal> wake)
      : path_(std::move(path)), connection_(std::move(connection)), wake_(std::move(wake)) {}

  const std::string path_;
  /// Guards connection_.
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;
  std::shared_ptr<WakeSignal> wake_;
};

}  // namespace tasker::sqlite
