#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tasker {

/// What can still be read from a message that is not a valid task: enough to answer it.
struct Envelope {
  std::optional<std::string> id;
  std::optional<std::string> run_id;
  std::optional<std::string> reply_queue;
};

/// Reads the id, run id and reply queue of a message body when it is a JSON object holding
/// them as strings; anything unreadable is left empty. Never fails.
Envelope peek_envelope(std::string_view body);

}  // namespace tasker
