#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "queue/sqlite/checkpointer.h"
#include "queue/sqlite/sqlite_connection.h"
#include "queue/sqlite/wake_signal.h"
#include "tasker/queue.h"
#include "util/mutex.h"

namespace tasker::sqlite {

/// One named queue in a SQLite database (see SqliteBroker for the schema). Safe to use from
/// several threads: it owns one connection and a mutex held only for the length of a
/// transaction, so a receive waiting for messages never blocks an extend or an ack.
class SqliteQueue : public Queue {
 public:
  /// Opens the queue `name` of the database at `path`; not_found when it does not exist.
  static Expected<std::unique_ptr<SqliteQueue>> open(const std::string& path,
                                                     const std::string& name,
                                                     std::shared_ptr<WakeSignal> wake,
                                                     std::shared_ptr<Checkpointer> checkpointer);

  const std::string& name() const override { return name_; }
  Expected<std::vector<Status>> send(const std::vector<OutgoingMessage>& messages) override;
  Expected<std::vector<Message>> receive(
      std::size_t max_messages, std::chrono::milliseconds wait,
      std::optional<std::chrono::seconds> visibility = std::nullopt,
      std::stop_token stop = {}) override;
  Expected<std::vector<Status>> ack(const std::vector<std::string>& receipts) override;
  Status extend(const std::string& receipt, std::chrono::seconds visibility) override;
  Status release(const std::string& receipt) override;
  Expected<QueueDepth> depth() override;

 private:
  /// A receipt taken apart: which queue, which message, which delivery.
  struct Receipt {
    std::int64_t queue_id = 0;
    std::int64_t message_id = 0;
    std::int64_t token = 0;
  };

  /// The prepared statements of `connection_`, made once.
  struct Statements {
    Statement queue_config, insert, select_visible, mark_delivered, dead_letter, next_visible,
        remove, token_of, set_visibility, depth;
  };

  /// The queue's settings as one receive reads them.
  struct Settings {
    std::int64_t visibility_ms = 0;
    std::optional<std::int64_t> dead_letter_id;
    std::optional<std::string> dead_letter_name;
    std::int64_t max_receive_count = 0;
  };

  /// A visible message selected for delivery, before it is marked delivered.
  struct PendingDelivery {
    std::int64_t id;
    std::string body;
    std::int64_t receive_count;
    MessageAttributes attributes;
  };

  /// What one receive transaction took, and what it must tell others afterwards.
  struct Delivery {
    std::vector<Message> messages;
    /// When nothing was visible: when the earliest in-flight message comes back (0: none is).
    std::int64_t next_visible_at_ms = 0;
    /// A message moved to this dead-letter queue.
    std::optional<std::string> dead_lettered_to;
  };

  SqliteQueue(std::string name, std::string path, std::int64_t queue_id,
              std::unique_ptr<Connection> connection, Statements statements,
              std::shared_ptr<WakeSignal> wake, std::shared_ptr<Checkpointer> checkpointer);

  /// One receive transaction.
  Expected<Delivery> receive_once(std::size_t max_messages,
                                  std::optional<std::chrono::seconds> visibility) EXCLUDES(mutex_);
  /// The steps of a receive, inside its transaction.
  Expected<Settings> read_settings() REQUIRES(mutex_);
  Expected<std::vector<PendingDelivery>> select_visible(std::int64_t now, std::size_t limit)
      REQUIRES(mutex_);
  Status deliver(std::vector<PendingDelivery>& pending, const Settings& settings, std::int64_t now,
                 std::int64_t visibility_ms, std::int64_t token, Delivery& delivery)
      REQUIRES(mutex_);
  Expected<std::int64_t> next_visible_at(std::int64_t now) REQUIRES(mutex_);

  Expected<Receipt> parse_receipt(const std::string& receipt) const;
  /// not_found when the queue was deleted since it was opened.
  Status check_exists() REQUIRES(mutex_);
  /// True when the message a receipt names is still in the queue (under any delivery).
  Expected<bool> message_exists(const Receipt& receipt) REQUIRES(mutex_);
  /// The error for a receipt that matched no current delivery.
  Error stale_receipt(const std::string& text, bool message_exists) const;
  Status change_visibility(const std::string& receipt, std::chrono::seconds visibility)
      EXCLUDES(mutex_);
  Error queue_gone() const;

  const std::string name_;
  const std::string path_;
  const std::int64_t queue_id_;
  std::shared_ptr<WakeSignal> wake_;
  /// Outlives connection_, which it watches.
  std::shared_ptr<Checkpointer> checkpointer_;

  /// One transaction at a time on the connection. Transaction bodies are lambdas run by
  /// in_write_transaction() under it, so each begins with mutex_.assert_held().
  Mutex mutex_;
  std::unique_ptr<Connection> connection_ GUARDED_BY(mutex_);
  Statements statements_ GUARDED_BY(mutex_);
  std::mt19937_64 random_ GUARDED_BY(mutex_);
};

}  // namespace tasker::sqlite
