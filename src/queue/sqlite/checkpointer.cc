#include "queue/sqlite/checkpointer.h"

namespace tasker::sqlite {
namespace {

// SQLite's default auto-checkpoint threshold (about 4 MB of WAL).
constexpr int kCheckpointPages = 1000;
constexpr std::chrono::milliseconds kBusyTimeout{10000};

}  // namespace

Expected<std::shared_ptr<Checkpointer>> Checkpointer::start(const std::string& path) {
  auto connection = Connection::open(path, kBusyTimeout);
  if (!connection) return connection.error();
  return std::shared_ptr<Checkpointer>(new Checkpointer(std::move(*connection)));
}

Checkpointer::Checkpointer(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)), thread_([this] { run(); }) {}

Checkpointer::~Checkpointer() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_one();
  thread_.join();
}

void Checkpointer::watch(Connection& connection) {
  sqlite3_wal_hook(connection.handle(), &Checkpointer::on_commit, this);
}

int Checkpointer::on_commit(void* self, sqlite3*, const char*, int wal_pages) {
  if (wal_pages >= kCheckpointPages) {
    auto* checkpointer = static_cast<Checkpointer*>(self);
    {
      MutexLock lock(checkpointer->mutex_);
      checkpointer->wanted_ = true;
    }
    checkpointer->changed_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::run() {
  for (;;) {
    {
      MutexLock lock(mutex_);
      while (!wanted_ && !stopping_) changed_.wait(mutex_);
      if (stopping_) return;
      wanted_ = false;
    }
    // Failures (busy with another process's checkpoint) are fine: the next commit asks again.
    sqlite3_wal_checkpoint_v2(connection_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
  }
}

}  // namespace tasker::sqlite
