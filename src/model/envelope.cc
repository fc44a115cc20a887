#include "model/envelope.h"

#include "model/json_util.h"
#include "tasker/task.h"

namespace tasker {

Envelope peek_envelope(std::string_view body) {
  Envelope envelope;
  if (body.size() > kMaxBodyBytes) return envelope;
  auto object = json_util::parse_object(body);
  if (!object) return envelope;
  auto read = [&](const char* field, std::optional<std::string>& out) {
    auto it = object->find(field);
    if (it == object->end() || !it->is_string()) return;
    auto value = it->get<std::string>();
    // Only values that are safe to echo: one line, bounded.
    if (value.empty() || value.size() > kMaxTaskIdBytes * 4) return;
    for (unsigned char c : value) {
      if (c < 0x20 || c == 0x7f) return;
    }
    if (json_util::has_sqs_refused_character(value)) return;
    out = std::move(value);
  };
  read("id", envelope.id);
  read("runId", envelope.run_id);
  read("replyQueue", envelope.reply_queue);
  if (envelope.id && envelope.id->size() > kMaxTaskIdBytes) envelope.id.reset();
  return envelope;
}

}  // namespace tasker
