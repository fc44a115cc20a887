#include "queue/sqs/sqs_queue.h"

#include <fmt/format.h>

#include <charconv>

#include "queue/queue_rules.h"

namespace tasker::sqs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

/// The HTTP limit of a long poll: the wait plus room for a slow answer, so a slow network never
/// cuts a long poll short.
constexpr milliseconds kLongPollMargin{15000};

std::int64_t attribute_count(const nlohmann::json& attributes, const char* name) {
  auto found = attributes.find(name);
  if (found == attributes.end()) return 0;
  if (found->is_number_integer()) return found->get<std::int64_t>();
  if (!found->is_string()) return 0;
  const std::string text = found->get<std::string>();
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

/// Turns a single-entry call's failure into that entry's Status when only the entry is at fault
/// (a bad receipt or body), or into an outer error when the call itself failed.
Expected<std::vector<Status>> single_entry(Expected<nlohmann::json> answer) {
  if (answer) return std::vector<Status>{Status::success()};
  if (answer.error().kind == ErrorKind::kInvalidInput) {
    return std::vector<Status>{Status(answer.error())};
  }
  return answer.error();
}

/// The body and attributes of one SendMessage request or SendMessageBatch entry.
nlohmann::json send_entry(const OutgoingMessage& message) {
  nlohmann::json entry = {{"MessageBody", message.body}};
  if (message.attributes.empty()) return entry;
  nlohmann::json attributes = nlohmann::json::object();
  for (const auto& [name, value] : message.attributes) {
    attributes[name] = {{"DataType", kAttributeDataType}, {"StringValue", value}};
  }
  entry["MessageAttributes"] = std::move(attributes);
  return entry;
}

}  // namespace

std::string queue_name_of_url(std::string_view url) {
  while (url.ends_with('/')) url.remove_suffix(1);
  return std::string(url.substr(url.rfind('/') + 1));
}

SqsQueue::SqsQueue(std::shared_ptr<SqsClient> client, std::string url)
    : client_(std::move(client)), url_(std::move(url)), name_(queue_name_of_url(url_)) {}

nlohmann::json SqsQueue::with_url(nlohmann::json request) const {
  request["QueueUrl"] = url_;
  return request;
}

std::string SqsQueue::subject() const { return fmt::format("queue {}", name_); }

Expected<std::vector<Status>> SqsQueue::send(const std::vector<OutgoingMessage>& messages) {
  TASKER_TRY(validate_send_batch(messages));
  // Entries SQS would refuse are answered here, one by one; the rest are sent.
  std::vector<Status> statuses(messages.size());
  std::vector<std::size_t> to_send;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    Status valid = validate_message(messages[i]);
    if (valid) valid = validate_sqs_characters(messages[i].body);
    for (const auto& [name, value] : messages[i].attributes) {
      if (valid) valid = validate_sqs_characters(value);
    }
    if (valid) {
      to_send.push_back(i);
    } else {
      statuses[i] = Error::invalid(fmt::format("{} entry {}: {}", subject(), i, valid.error().message));
    }
  }
  if (to_send.empty()) return statuses;

  if (to_send.size() == 1) {
    const std::size_t index = to_send.front();
    auto sent = single_entry(
        client_->call("SendMessage", with_url(send_entry(messages[index])), subject()));
    if (!sent) return sent.error();
    statuses[index] = sent->front();
    return statuses;
  }
  nlohmann::json entries = nlohmann::json::array();
  for (std::size_t i = 0; i < to_send.size(); ++i) {
    nlohmann::json entry = send_entry(messages[to_send[i]]);
    entry["Id"] = std::to_string(i);
    entries.push_back(std::move(entry));
  }
  auto answer = client_->call("SendMessageBatch", with_url({{"Entries", entries}}), subject());
  if (!answer) return answer.error();
  std::vector<Status> sent = batch_statuses(*answer, to_send.size(), "SQS SendMessageBatch on " + subject());
  for (std::size_t i = 0; i < to_send.size(); ++i) statuses[to_send[i]] = sent[i];
  return statuses;
}

Expected<std::vector<Message>> SqsQueue::receive(std::size_t max_messages, milliseconds wait,
                                                 std::optional<seconds> visibility,
                                                 std::stop_token stop) {
  TASKER_TRY(validate_receive(max_messages, wait));
  if (visibility) TASKER_TRY(validate_visibility(*visibility));
  // SQS waits in whole seconds: round up, so the call never returns before the wait asked for.
  const auto wait_seconds = (wait.count() + 999) / 1000;
  nlohmann::json request = with_url({{"MaxNumberOfMessages", max_messages},
                                     {"WaitTimeSeconds", wait_seconds},
                                     {"AttributeNames", {"ApproximateReceiveCount"}},
                                     {"MessageSystemAttributeNames", {"ApproximateReceiveCount"}},
                                     {"MessageAttributeNames", {"All"}}});
  if (visibility) request["VisibilityTimeout"] = visibility->count();
  auto answer = client_->call("ReceiveMessage", request, subject(),
                              milliseconds(wait_seconds * 1000) + kLongPollMargin, stop);
  // Cut short by a stop: nothing was received (what SQS may have handed out comes back).
  if (!answer && stop.stop_requested()) return std::vector<Message>{};
  if (!answer) return answer.error();

  std::vector<Message> messages;
  auto list = answer->find("Messages");
  if (list == answer->end() || !list->is_array()) return messages;
  for (const auto& entry : *list) {
    Message message;
    message.message_id = entry.value("MessageId", std::string());
    message.receipt = entry.value("ReceiptHandle", std::string());
    message.body = entry.value("Body", std::string());
    if (auto attributes = entry.find("Attributes"); attributes != entry.end()) {
      message.receive_count = static_cast<int>(attribute_count(*attributes, "ApproximateReceiveCount"));
    }
    const std::string md5 = entry.value("MD5OfBody", std::string());
    if (!md5.empty() && md5 != md5_hex(message.body)) {
      return Error::transient_failure(fmt::format(
          "SQS ReceiveMessage on {}: message {} arrived with a body whose MD5 does not match "
          "MD5OfBody; it will be delivered again",
          subject(), message.message_id));
    }
    if (auto attributes = entry.find("MessageAttributes");
        attributes != entry.end() && attributes->is_object()) {
      TASKER_TRY(check_attributes_md5(entry, *attributes, message.message_id));
      for (const auto& [name, attribute] : attributes->items()) {
        // tasker's attributes are strings; numbers read as their text, binary ones are left out.
        auto value = attribute.find("StringValue");
        if (value != attribute.end() && value->is_string()) message.attributes[name] = value->get<std::string>();
      }
    }
    if (message.receipt.empty()) {
      return Error::internal(fmt::format("SQS ReceiveMessage on {}: a message came without a receipt handle",
                                         subject()));
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

Status SqsQueue::check_attributes_md5(const nlohmann::json& entry,
                                     const nlohmann::json& attributes,
                                     const std::string& message_id) const {
  const std::string expected = entry.value("MD5OfMessageAttributes", std::string());
  if (expected.empty()) return Status::success();
  auto md5 = md5_of_message_attributes(attributes);
  if (!md5 || *md5 != expected) {
    return Error::transient_failure(fmt::format(
        "SQS ReceiveMessage on {}: message {} arrived with attributes whose MD5 does not match "
        "MD5OfMessageAttributes{}; it will be delivered again",
        subject(), message_id, md5 ? "" : " (" + md5.error().message + ")"));
  }
  return Status::success();
}

Expected<std::vector<Status>> SqsQueue::ack(const std::vector<std::string>& receipts) {
  TASKER_TRY(validate_batch_size(receipts.size(), "ack"));
  if (receipts.size() == 1) {
    return single_entry(client_->call("DeleteMessage",
                                      with_url({{"ReceiptHandle", receipts.front()}}), subject()));
  }
  nlohmann::json entries = nlohmann::json::array();
  for (std::size_t i = 0; i < receipts.size(); ++i) {
    entries.push_back({{"Id", std::to_string(i)}, {"ReceiptHandle", receipts[i]}});
  }
  auto answer = client_->call("DeleteMessageBatch", with_url({{"Entries", entries}}), subject());
  if (!answer) return answer.error();
  return batch_statuses(*answer, receipts.size(), "SQS DeleteMessageBatch on " + subject());
}

Status SqsQueue::extend(const std::string& receipt, seconds visibility) {
  TASKER_TRY(validate_visibility(visibility));
  auto answer = client_->call(
      "ChangeMessageVisibility",
      with_url({{"ReceiptHandle", receipt}, {"VisibilityTimeout", visibility.count()}}), subject());
  if (!answer) return answer.error();
  return Status::success();
}

Status SqsQueue::release(const std::string& receipt) { return extend(receipt, seconds(0)); }

Expected<QueueDepth> SqsQueue::depth() {
  auto answer = client_->call(
      "GetQueueAttributes",
      with_url({{"AttributeNames",
                 {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                  "ApproximateNumberOfMessagesDelayed"}}}),
      subject());
  if (!answer) return answer.error();
  const nlohmann::json attributes = answer->value("Attributes", nlohmann::json::object());
  QueueDepth depth;
  depth.visible = attribute_count(attributes, "ApproximateNumberOfMessages");
  depth.in_flight = attribute_count(attributes, "ApproximateNumberOfMessagesNotVisible");
  depth.delayed = attribute_count(attributes, "ApproximateNumberOfMessagesDelayed");
  return depth;
}

}  // namespace tasker::sqs
