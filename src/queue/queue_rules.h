#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tasker/error.h"
#include "tasker/queue.h"

namespace tasker {

// The limits every backend enforces alike — SQS's — so a program that works on the embedded queue
// also works on SQS. The message-size limit (kMaxBodyBytes) and how a message's size is counted
// (message_size()) are part of the Queue contract, in tasker/queue.h.

/// The longest visibility timeout (SQS's 12 hours).
inline constexpr std::chrono::seconds kMaxVisibility{43200};
/// The longest long-poll wait of one receive (SQS's 20 s).
inline constexpr std::chrono::milliseconds kMaxReceiveWait{20000};

/// The most bytes a queue name may have (SQS's limit, applied to every backend so names move
/// between them).
inline constexpr std::size_t kMaxQueueNameLength = 80;

/// Checks a queue name against SQS's rules — 1 to 80 of `A-Z a-z 0-9 - _`, optionally ending in
/// `.fifo` — so a name that works on the embedded queue also works on SQS.
Status validate_queue_name(std::string_view name);

/// `text` quoted for an error message, with control and non-ASCII bytes escaped as \xNN so the
/// message stays on one line.
std::string quote_for_message(std::string_view text);

/// Checks a visibility timeout: 0 to 12 hours.
Status validate_visibility(std::chrono::seconds visibility);

/// Checks a receive's message count (1..Queue::kMaxBatch) and wait (0..20 s).
Status validate_receive(std::size_t max_messages, std::chrono::milliseconds wait);

/// Checks the entry count of a send or ack batch (1..Queue::kMaxBatch); `what` names the call.
Status validate_batch_size(std::size_t size, std::string_view what);

/// The most attributes one message may carry (SQS's limit).
inline constexpr std::size_t kMaxAttributes = 10;
/// The data type every attribute is sent with: tasker's attributes are strings.
inline constexpr std::string_view kAttributeDataType = "String";

/// Checks a send batch as SQS does: 1 to Queue::kMaxBatch messages of at most 256 KiB together.
Status validate_send_batch(const std::vector<OutgoingMessage>& messages);

/// Checks one message body: 1 byte to 256 KiB.
Status validate_body(std::string_view body);

/// Checks one message: its body, at most kMaxAttributes attributes with SQS's names
/// (`A-Z a-z 0-9 _ - .`, up to 256 bytes, no leading, trailing or doubled period, not starting
/// with `AWS.` or `Amazon.`) and non-empty values, and 256 KiB in all.
Status validate_message(const OutgoingMessage& message);

/// Checks a max receive count: 1 to 1000, as SQS's redrive policy allows.
Status validate_max_receive_count(int count);

}  // namespace tasker
