#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tasker/error.h"

namespace tasker {

/// Named string values carried beside a message body, outside it (SQS message attributes): the
/// body stays byte for byte what the sender wrote.
using MessageAttributes = std::map<std::string, std::string>;

/// One message to send: a body and its attributes. Made implicitly from a body, so
/// `queue.send({"a", "b"})` sends two messages without attributes.
struct OutgoingMessage {
  OutgoingMessage(std::string body) : body(std::move(body)) {}  // NOLINT(implicit)
  OutgoingMessage(const char* body) : body(body) {}            // NOLINT(implicit)
  OutgoingMessage(std::string body, MessageAttributes attributes)
      : body(std::move(body)), attributes(std::move(attributes)) {}

  std::string body;
  MessageAttributes attributes;
};

/// The most bytes one message may have, counted as message_size() counts them, and the most one
/// send call may carry in all (SQS's 256 KiB). Every backend enforces it alike, so a program that
/// works on the embedded queue also works on SQS.
inline constexpr std::size_t kMaxBodyBytes = 262144;

/// A message's size as SQS counts it against kMaxBodyBytes: the body, and each attribute's name,
/// data type and value.
std::size_t message_size(const OutgoingMessage& message);

/// One message taken from a queue. `receipt` names this delivery (not the message): ack, extend
/// and release take it, and a receipt from an earlier delivery is stale.
struct Message {
  std::string message_id;
  std::string receipt;
  std::string body;
  /// How many times the message has been delivered, this delivery included (SQS's
  /// ApproximateReceiveCount).
  int receive_count = 0;
  /// The attributes it was sent with.
  MessageAttributes attributes;
};

/// Approximate depth of a queue, for progress and `tasker queue stats`.
struct QueueDepth {
  std::int64_t visible = 0;
  std::int64_t in_flight = 0;
  std::int64_t delayed = 0;
};

/// What a queue is created with.
struct QueueOptions {
  std::chrono::seconds visibility_timeout{30};
  /// When set, a message received more than `max_receive_count` times moves to this queue.
  std::optional<std::string> dead_letter_queue;
  int max_receive_count = 5;
};

/// A named queue with at-least-once delivery in SQS's vocabulary. Everything above the queue
/// (agent, master) relies only on this, so the SQLite and SQS backends are interchangeable and
/// pass the same conformance suite (tests/queue_conformance_test.cc).
class Queue {
 public:
  /// The most entries one send/ack call takes (SQS's batch limit).
  static constexpr std::size_t kMaxBatch = 10;

  virtual ~Queue() = default;

  /// The queue's name (for SQS, its last URL path component).
  virtual const std::string& name() const = 0;

  /// Sends up to kMaxBatch messages. The outer error means nothing was sent; otherwise one Status
  /// per message, in order, so a partial failure is retried entry by entry.
  virtual Expected<std::vector<Status>> send(const std::vector<OutgoingMessage>& messages) = 0;

  /// How many calls (sends, receives, acks) it pays to have in flight at once: 1 (the default)
  /// where calls are served one after another anyway, more where each mostly waits on the network.
  virtual std::size_t concurrent_calls() const { return 1; }

  /// Receives up to `max_messages` (1..kMaxBatch), waiting up to `wait` for the first one and
  /// returning as soon as one arrives. Received messages stay invisible for `visibility`, or the
  /// queue's default when not given. A stop requested on `stop` (before or during the call) cuts
  /// the wait short: the call returns within milliseconds with nothing, so a stopping consumer
  /// is not held up by a long poll. On SQS a cut-short call may leave messages SQS had already
  /// handed out invisible until their visibility ends (at-least-once: they come back).
  virtual Expected<std::vector<Message>> receive(
      std::size_t max_messages, std::chrono::milliseconds wait,
      std::optional<std::chrono::seconds> visibility = std::nullopt,
      std::stop_token stop = {}) = 0;

  /// Deletes up to kMaxBatch delivered messages by receipt; one Status per receipt.
  virtual Expected<std::vector<Status>> ack(const std::vector<std::string>& receipts) = 0;

  /// Makes a delivered message invisible for `visibility` from now (SQS ChangeMessageVisibility).
  virtual Status extend(const std::string& receipt, std::chrono::seconds visibility) = 0;

  /// Makes a delivered message visible again at once, for another consumer to take.
  virtual Status release(const std::string& receipt) = 0;

  /// Approximate counts of visible, in-flight and delayed messages.
  virtual Expected<QueueDepth> depth() = 0;
};

/// Where queues live: one SQLite file, or SQS (AWS or a compatible endpoint). Creates, opens and
/// removes named queues.
class Broker {
 public:
  virtual ~Broker() = default;

  /// Creates a queue (and its dead-letter queue when asked); an existing queue is left as is.
  virtual Status create_queue(const std::string& name, const QueueOptions& options) = 0;

  /// Opens an existing queue by name (or, for SQS, by full queue URL).
  virtual Expected<std::unique_ptr<Queue>> open_queue(const std::string& name_or_url) = 0;

  /// Deletes a queue and its messages.
  virtual Status delete_queue(const std::string& name_or_url) = 0;

  /// Deletes every message of a queue, keeping the queue.
  virtual Status purge_queue(const std::string& name_or_url) = 0;
};

/// A parsed broker address: `sqlite:PATH`, `sqs://` or `sqs://NAME` (queue by name, endpoint and
/// region from the environment), or a full SQS queue URL (`https://...`, `http://...`).
struct BrokerAddress {
  enum class Kind { kSqlite, kSqs };
  Kind kind = Kind::kSqlite;
  /// The database file, for kSqlite.
  std::string sqlite_path;
  /// A queue named by the address itself, if any: the NAME of `sqs://NAME`, or the whole queue
  /// URL (what Broker::open_queue takes).
  std::optional<std::string> queue;
  /// For a queue URL: its scheme, host and port (`https://sqs.eu-west-1.amazonaws.com`).
  std::optional<std::string> endpoint;
  /// For an AWS queue URL (`https://sqs.<region>.amazonaws.com/...`): the region it names.
  std::optional<std::string> region;
};

/// Parses a broker address; the error names the address and the accepted forms.
Expected<BrokerAddress> parse_broker_address(std::string_view address);

/// Opens the broker an address names.
Expected<std::unique_ptr<Broker>> open_broker(const BrokerAddress& address);

}  // namespace tasker
