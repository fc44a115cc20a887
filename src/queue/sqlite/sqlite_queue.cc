#include "queue/sqlite/sqlite_queue.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <thread>

#include "queue/queue_rules.h"

namespace tasker::sqlite {
namespace {

constexpr std::chrono::milliseconds kBusyTimeout{10000};

// A receipt is "<queue id>:<message id>:<delivery token in hex>". The token is random and new
// for every receive, so the receipt of an earlier delivery can no longer ack, extend or release
// the message once it has been delivered again.
std::string format_receipt(std::int64_t queue_id, std::int64_t message_id, std::int64_t token) {
  return fmt::format("{}:{}:{:x}", queue_id, message_id, token);
}

bool parse_number(std::string_view text, std::int64_t& value, int base) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// Attributes are stored as one JSON object of strings, NULL when a message has none.
std::string encode_attributes(const MessageAttributes& attributes) {
  return nlohmann::json(attributes).dump();
}

// Reads the column back. Only this code writes it, but a damaged value must not stop delivery:
// it reads as no attributes (a signed task then fails verification, as it should).
MessageAttributes decode_attributes(const std::string& text) {
  MessageAttributes attributes;
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_object()) return attributes;
  for (const auto& [name, value] : parsed.items()) {
    if (value.is_string()) attributes[name] = value.get<std::string>();
  }
  return attributes;
}

}  // namespace

Expected<std::unique_ptr<SqliteQueue>> SqliteQueue::open(
    const std::string& path, const std::string& name, std::shared_ptr<WakeSignal> wake,
    std::shared_ptr<Checkpointer> checkpointer) {
  auto connection = Connection::open(path, kBusyTimeout);
  if (!connection) return connection.error();
  Connection& db = **connection;

  auto find = db.prepare("SELECT id FROM queues WHERE name = ?1");
  if (!find) return find.error();
  find->bind(1, name);
  auto found = db.step(*find, "looking up the queue");
  if (!found) return found.error();
  if (!*found) {
    return Error::not_found(fmt::format("queue {} does not exist in sqlite:{}: create it first",
                                        quote_for_message(name), path));
  }
  const std::int64_t queue_id = find->column_int(0);

  Statements statements;
  const std::pair<Statement*, const char*> sql[] = {
      {&statements.queue_config,
       "SELECT q.visibility_ms, q.dead_letter_queue_id, q.max_receive_count, d.name "
       "FROM queues q LEFT JOIN queues d ON d.id = q.dead_letter_queue_id WHERE q.id = ?1"},
      {&statements.insert,
       "INSERT INTO messages(queue_id, body, visible_at_ms, sent_at_ms, attributes) "
       "VALUES(?1, ?2, ?3, ?3, ?4)"},
      {&statements.select_visible,
       "SELECT id, body, receive_count, attributes FROM messages WHERE queue_id = ?1 AND visible_at_ms <= ?2 "
       "ORDER BY visible_at_ms, id LIMIT ?3"},
      {&statements.mark_delivered,
       "UPDATE messages SET visible_at_ms = ?1, receive_count = receive_count + 1, "
       "receipt_token = ?2 WHERE id = ?3"},
      {&statements.dead_letter,
       "UPDATE messages SET queue_id = ?1, visible_at_ms = ?2, receive_count = 0, "
       "receipt_token = 0 WHERE id = ?3"},
      {&statements.next_visible,
       "SELECT MIN(visible_at_ms) FROM messages WHERE queue_id = ?1 AND visible_at_ms > ?2"},
      {&statements.remove,
       "DELETE FROM messages WHERE id = ?1 AND queue_id = ?2 AND receipt_token = ?3"},
      {&statements.token_of, "SELECT receipt_token FROM messages WHERE id = ?1 AND queue_id = ?2"},
      {&statements.set_visibility,
       "UPDATE messages SET visible_at_ms = ?1 WHERE id = ?2 AND queue_id = ?3 AND "
       "receipt_token = ?4"},
      {&statements.depth,
       "SELECT COALESCE(SUM(visible_at_ms <= ?2), 0), COALESCE(SUM(visible_at_ms > ?2), 0) "
       "FROM messages WHERE queue_id = ?1"},
  };
  for (const auto& [statement, text] : sql) {
    auto prepared = db.prepare(text);
    if (!prepared) return prepared.error();
    *statement = std::move(*prepared);
  }
  checkpointer->watch(db);
  return std::unique_ptr<SqliteQueue>(new SqliteQueue(name, path, queue_id, std::move(*connection),
                                                      std::move(statements), std::move(wake),
                                                      std::move(checkpointer)));
}

SqliteQueue::SqliteQueue(std::string name, std::string path, std::int64_t queue_id,
                         std::unique_ptr<Connection> connection, Statements statements,
                         std::shared_ptr<WakeSignal> wake,
                         std::shared_ptr<Checkpointer> checkpointer)
    : name_(std::move(name)),
      path_(std::move(path)),
      queue_id_(queue_id),
      wake_(std::move(wake)),
      checkpointer_(std::move(checkpointer)),
      connection_(std::move(connection)),
      statements_(std::move(statements)),
      random_(std::random_device{}()) {}

Error SqliteQueue::queue_gone() const {
  return Error::not_found(fmt::format("queue {} was deleted from sqlite:{}",
                                      quote_for_message(name_), path_));
}

Expected<std::vector<Status>> SqliteQueue::send(const std::vector<OutgoingMessage>& messages) {
  TASKER_TRY(validate_send_batch(messages));
  std::vector<Status> results;
  results.reserve(messages.size());
  bool any_sent = false;
  {
    MutexLock lock(mutex_);
    Statement& insert = statements_.insert;
    Status done = in_write_transaction(*connection_, [&]() -> Status {
      mutex_.assert_held();
      results.clear();
      TASKER_TRY(check_exists());
      const std::int64_t now = wall_clock_ms();
      for (const OutgoingMessage& message : messages) {
        Status valid = validate_message(message);
        if (!valid) {
          results.push_back(valid);
          continue;
        }
        const std::string& body = message.body;
        insert.bind(1, queue_id_);
        sqlite3_bind_blob(insert.get(), 2, body.data(), static_cast<int>(body.size()),
                          SQLITE_STATIC);
        insert.bind(3, now);
        if (message.attributes.empty()) {
          insert.bind_null(4);
        } else {
          insert.bind(4, encode_attributes(message.attributes));
        }
        auto stepped = connection_->step(insert, "sending a message");
        insert.reset();
        if (!stepped) return stepped.error();
        results.push_back(Status::success());
        any_sent = true;
      }
      return Status::success();
    });
    if (!done) return done.error();
  }
  if (any_sent) wake_->notify(name_);
  return results;
}

Expected<SqliteQueue::Delivery> SqliteQueue::receive_once(
    std::size_t max_messages, std::optional<std::chrono::seconds> visibility) {
  Delivery delivery;
  MutexLock lock(mutex_);
  Status done = in_write_transaction(*connection_, [&]() -> Status {
    mutex_.assert_held();
    delivery = Delivery{};
    const std::int64_t now = wall_clock_ms();
    auto settings = read_settings();
    if (!settings) return settings.error();
    const std::int64_t visibility_ms = visibility ? visibility->count() * 1000 : settings->visibility_ms;
    // One random token per receive call: the receipts still differ per message by its id.
    const auto token = static_cast<std::int64_t>(random_() >> 2) + 1;
    while (delivery.messages.size() < max_messages) {
      // Collect the rows before changing them: an update moves a row within the index the
      // select walks.
      auto pending = select_visible(now, max_messages - delivery.messages.size());
      if (!pending) return pending.error();
      if (pending->empty()) break;
      TASKER_TRY(deliver(*pending, *settings, now, visibility_ms, token, delivery));
    }
    if (delivery.messages.empty()) {
      auto next = next_visible_at(now);
      if (!next) return next.error();
      delivery.next_visible_at_ms = *next;
    }
    return Status::success();
  });
  if (!done) return done.error();
  return delivery;
}

Expected<SqliteQueue::Settings> SqliteQueue::read_settings() {
  Statement& config = statements_.queue_config;
  config.bind(1, queue_id_);
  auto found = connection_->step(config, "reading the queue's settings");
  if (!found || !*found) {
    config.reset();
    if (!found) return found.error();
    return queue_gone();
  }
  Settings settings;
  settings.visibility_ms = config.column_int(0);
  if (!config.column_is_null(1)) {
    settings.dead_letter_id = config.column_int(1);
    settings.dead_letter_name = config.column_text(3);
  }
  settings.max_receive_count = config.column_int(2);
  config.reset();
  return settings;
}

Expected<std::vector<SqliteQueue::PendingDelivery>> SqliteQueue::select_visible(std::int64_t now,
                                                                                std::size_t limit) {
  Statement& select = statements_.select_visible;
  std::vector<PendingDelivery> pending;
  select.bind(1, queue_id_);
  select.bind(2, now);
  select.bind(3, static_cast<std::int64_t>(limit));
  for (;;) {
    auto row = connection_->step(select, "selecting visible messages");
    if (!row) {
      select.reset();
      return row.error();
    }
    if (!*row) break;
    pending.push_back({select.column_int(0), select.column_text(1), select.column_int(2),
                       select.column_is_null(3) ? MessageAttributes{}
                                                : decode_attributes(select.column_text(3))});
  }
  select.reset();
  return pending;
}

Status SqliteQueue::deliver(std::vector<PendingDelivery>& pending, const Settings& settings,
                            std::int64_t now, std::int64_t visibility_ms, std::int64_t token,
                            Delivery& delivery) {
  Statements& s = statements_;
  for (PendingDelivery& message : pending) {
    // SQS's redrive: a message already received max_receive_count times moves to the
    // dead-letter queue instead of being delivered again.
    if (settings.dead_letter_id && message.receive_count >= settings.max_receive_count) {
      s.dead_letter.bind(1, *settings.dead_letter_id);
      s.dead_letter.bind(2, now);
      s.dead_letter.bind(3, message.id);
      auto moved = connection_->step(s.dead_letter, "moving a message to the dead-letter queue");
      s.dead_letter.reset();
      if (!moved) return moved.error();
      delivery.dead_lettered_to = settings.dead_letter_name;
      continue;
    }
    s.mark_delivered.bind(1, now + visibility_ms);
    s.mark_delivered.bind(2, token);
    s.mark_delivered.bind(3, message.id);
    auto marked = connection_->step(s.mark_delivered, "marking a message delivered");
    s.mark_delivered.reset();
    if (!marked) return marked.error();
    delivery.messages.push_back({std::to_string(message.id),
                                 format_receipt(queue_id_, message.id, token),
                                 std::move(message.body), static_cast<int>(message.receive_count + 1),
                                 std::move(message.attributes)});
  }
  return Status::success();
}

Expected<std::int64_t> SqliteQueue::next_visible_at(std::int64_t now) {
  Statement& next = statements_.next_visible;
  next.bind(1, queue_id_);
  next.bind(2, now);
  auto row = connection_->step(next, "finding the next in-flight message");
  if (!row) {
    next.reset();
    return row.error();
  }
  const std::int64_t at = next.column_int(0);
  next.reset();
  return at;
}

Expected<std::vector<Message>> SqliteQueue::receive(
    std::size_t max_messages, std::chrono::milliseconds wait,
    std::optional<std::chrono::seconds> visibility, std::stop_token stop) {
  TASKER_TRY(validate_receive(max_messages, wait));
  if (visibility) TASKER_TRY(validate_visibility(*visibility));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  // A stop moves the queue's generation, so the wait below returns at once (or is never entered:
  // the word no longer holds the generation read before the look). Waiters elsewhere on the same
  // slot look once more and sleep again.
  std::stop_callback wake_on_stop(stop, [this] { wake_->notify(name_); });
  for (;;) {
    // Read the generation before looking, so a send that commits after the look moves it and
    // the wait below returns at once instead of sleeping through the new message. The same holds
    // for a stop requested after the check that follows.
    const std::uint32_t seen = wake_->generation(name_);
    if (stop.stop_requested()) return std::vector<Message>{};
    auto delivery = receive_once(max_messages, visibility);
    if (!delivery) return delivery.error();
    if (delivery->dead_lettered_to) wake_->notify(*delivery->dead_lettered_to);
    if (!delivery->messages.empty()) return std::move(delivery->messages);
    const std::int64_t next_visible_at_ms = delivery->next_visible_at_ms;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::move(delivery->messages);
    auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
    if (next_visible_at_ms > 0) {
      // An in-flight message comes back without anyone sending: wake up when it does.
      const auto until_visible =
          std::chrono::milliseconds(next_visible_at_ms - wall_clock_ms() + 1);
      timeout = std::min<std::chrono::microseconds>(timeout, until_visible);
    }
    // A backstop against a waker this process cannot see (an older tasker on the same file).
    timeout = std::min<std::chrono::microseconds>(timeout, std::chrono::seconds(1));
    wake_->wait(name_, seen, timeout);
  }
}

Expected<SqliteQueue::Receipt> SqliteQueue::parse_receipt(const std::string& receipt) const {
  const auto first = receipt.find(':');
  const auto second = first == std::string::npos ? first : receipt.find(':', first + 1);
  Receipt parsed;
  const std::string_view text = receipt;
  if (second == std::string::npos || !parse_number(text.substr(0, first), parsed.queue_id, 10) ||
      !parse_number(text.substr(first + 1, second - first - 1), parsed.message_id, 10) ||
      !parse_number(text.substr(second + 1), parsed.token, 16)) {
    return Error::invalid(
        fmt::format("receipt {} is not one a SQLite queue issued", quote_for_message(receipt)));
  }
  if (parsed.queue_id != queue_id_) {
    return Error::invalid(fmt::format("receipt {} belongs to another queue, not {}",
                                      quote_for_message(receipt), quote_for_message(name_)));
  }
  return parsed;
}

Status SqliteQueue::check_exists() {
  Statement& config = statements_.queue_config;
  config.bind(1, queue_id_);
  auto found = connection_->step(config, "reading the queue's settings");
  config.reset();
  if (!found) return found.error();
  if (!*found) return queue_gone();
  return Status::success();
}

Expected<bool> SqliteQueue::message_exists(const Receipt& receipt) {
  Statement& token_of = statements_.token_of;
  token_of.bind(1, receipt.message_id);
  token_of.bind(2, queue_id_);
  auto row = connection_->step(token_of, "looking up a receipt");
  token_of.reset();
  return row;
}

Error SqliteQueue::stale_receipt(const std::string& text, bool message_exists) const {
  if (!message_exists) {
    return Error::not_found(fmt::format("receipt {}: the message is no longer in queue {}",
                                        quote_for_message(text), quote_for_message(name_)));
  }
  return Error::not_found(fmt::format(
      "receipt {} is stale: the message was delivered again since; use the newer receipt",
      quote_for_message(text)));
}

Expected<std::vector<Status>> SqliteQueue::ack(const std::vector<std::string>& receipts) {
  TASKER_TRY(validate_batch_size(receipts.size(), "ack"));
  std::vector<Status> results;
  MutexLock lock(mutex_);
  Statement& remove = statements_.remove;
  Status done = in_write_transaction(*connection_, [&]() -> Status {
    mutex_.assert_held();
    results.clear();
    for (const std::string& text : receipts) {
      auto receipt = parse_receipt(text);
      if (!receipt) {
        results.push_back(receipt.error());
        continue;
      }
      remove.bind(1, receipt->message_id);
      remove.bind(2, queue_id_);
      remove.bind(3, receipt->token);
      auto removed = connection_->step(remove, "deleting a message");
      remove.reset();
      if (!removed) return removed.error();
      if (connection_->changes() == 1) {
        results.push_back(Status::success());
        continue;
      }
      // Deleting an already deleted message succeeds, as on SQS: acks are retried after
      // timeouts, and the message is gone as the caller wanted. A stale receipt is an error.
      auto exists = message_exists(*receipt);
      if (!exists) return exists.error();
      results.push_back(*exists ? Status(stale_receipt(text, true)) : Status::success());
    }
    return Status::success();
  });
  if (!done) return done.error();
  return results;
}

Status SqliteQueue::change_visibility(const std::string& text, std::chrono::seconds visibility) {
  TASKER_TRY(validate_visibility(visibility));
  auto receipt = parse_receipt(text);
  if (!receipt) return receipt.error();
  {
    MutexLock lock(mutex_);
    Statement& update = statements_.set_visibility;
    Status done = in_write_transaction(*connection_, [&]() -> Status {
      mutex_.assert_held();
      update.bind(1, wall_clock_ms() + visibility.count() * 1000);
      update.bind(2, receipt->message_id);
      update.bind(3, queue_id_);
      update.bind(4, receipt->token);
      auto updated = connection_->step(update, "changing a message's visibility");
      update.reset();
      if (!updated) return updated.error();
      if (connection_->changes() == 1) return Status::success();
      auto exists = message_exists(*receipt);
      if (!exists) return exists.error();
      return stale_receipt(text, *exists);
    });
    TASKER_TRY(done);
  }
  if (visibility.count() == 0) wake_->notify(name_);
  return Status::success();
}

Status SqliteQueue::extend(const std::string& receipt, std::chrono::seconds visibility) {
  return change_visibility(receipt, visibility);
}

Status SqliteQueue::release(const std::string& receipt) {
  return change_visibility(receipt, std::chrono::seconds(0));
}

Expected<QueueDepth> SqliteQueue::depth() {
  MutexLock lock(mutex_);
  Statement& depth = statements_.depth;
  depth.bind(1, queue_id_);
  depth.bind(2, wall_clock_ms());
  auto row = connection_->step(depth, "counting messages");
  if (!row) {
    depth.reset();
    return row.error();
  }
  QueueDepth counts;
  counts.visible = depth.column_int(0);
  counts.in_flight = depth.column_int(1);
  depth.reset();
  return counts;
}

}  // namespace tasker::sqlite
