#include "queue/sqs/sqs_client.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <charconv>
#include <cstdint>
#include <optional>

#include "aws/aws_error.h"
#include "util/log.h"
#include "util/url_credentials.h"

namespace tasker::sqs {
namespace {

TransportPool::Factory default_factory(TransportPool::Factory factory) {
  if (factory) return factory;
  return [] {
    return std::make_unique<http::CurlTransport>(http::CurlTransport::Options{{}, "tasker/" TASKER_VERSION});
  };
}

/// Decodes one UTF-8 sequence at `at`; returns its length, or 0 when it is not valid UTF-8.
std::size_t utf8_sequence(std::string_view text, std::size_t at, char32_t& code_point) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t length = 0;
  if (lead < 0x80) {
    code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (at + length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(at + i) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  static constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kMinimum[length] || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

}  // namespace

SqsClient::SqsClient(SqsClientConfig config)
    : config_(std::move(config)),
      backoff_(config_.retry),
      transports_(default_factory(config_.transport_factory)) {}

Expected<nlohmann::json> SqsClient::call(std::string_view action, const nlohmann::json& request,
                                         std::string_view subject,
                                         std::chrono::milliseconds timeout,
                                         std::stop_token cancel) {
  const std::string context = fmt::format("SQS {} on {} at {}", action, subject,
                                          without_url_credentials(config_.endpoint));
  // Bodies are checked as UTF-8 before they get here; `replace` keeps dump() from throwing anyway.
  const std::string body = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return aws::with_retries<nlohmann::json>(backoff_, *config_.clock, [&] {
    return call_once(action, body, context, timeout, cancel);
  });
}

Expected<nlohmann::json> SqsClient::call_once(std::string_view action, const std::string& body,
                                              const std::string& context,
                                              std::chrono::milliseconds timeout,
                                              const std::stop_token& cancel) {
  auto credentials = config_.credentials->get();
  if (!credentials) return Error{credentials.error().kind, context + ": " + credentials.error().message};
  const std::vector<std::string> secrets = {credentials->secret_access_key,
                                            credentials->session_token};

  http::Request request;
  request.method = "POST";
  request.url = config_.endpoint + "/";
  request.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                     {"X-Amz-Target", fmt::format("AmazonSQS.{}", action)}};
  // libcurl signs every header it is given, so the token is signed too (as AWS requires).
  if (!credentials->session_token.empty()) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials->session_token);
  }
  request.body = body;
  request.timeout = timeout;
  request.cancel = cancel;
  request.aws_sigv4 = fmt::format("aws:amz:{}:sqs", config_.region);
  request.aws_keys = std::make_pair(credentials->access_key_id, credentials->secret_access_key);

  Expected<http::Response> response = [&] {
    auto transport = transports_.acquire();
    return transport->perform(request);
  }();
  if (!response) {
    return Error{response.error().kind,
                 aws::redact(context + ": " + response.error().message, secrets)};
  }
  log::debug("sqs: {} -> HTTP {}", context, response->status);
  if (response->status < 200 || response->status >= 300) {
    Error error = aws::to_error(aws::parse_service_error(*response), context);
    error.message = aws::redact(std::move(error.message), secrets);
    return error;
  }
  if (response->body.empty()) return nlohmann::json::object();
  auto answer = nlohmann::json::parse(response->body, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    return Error::internal(fmt::format("{}: the answer (HTTP {}) is not a JSON object", context,
                                       response->status));
  }
  // Failed batch entries become error messages later: strip secrets an endpoint echoed there.
  if (auto failed = answer.find("Failed"); failed != answer.end() && failed->is_array()) {
    for (auto& entry : *failed) {
      if (entry.is_object() && entry.contains("Message") && entry["Message"].is_string()) {
        entry["Message"] = aws::redact(entry["Message"].get<std::string>(), secrets);
      }
    }
  }
  return answer;
}

std::vector<Status> batch_statuses(const nlohmann::json& answer, std::size_t count,
                                   std::string_view context) {
  std::vector<Status> statuses(count, Status(Error::internal(fmt::format(
                                          "{}: the answer did not mention this entry", context))));
  auto index_of = [&](const nlohmann::json& entry) -> std::optional<std::size_t> {
    if (!entry.is_object() || !entry.contains("Id") || !entry["Id"].is_string()) return std::nullopt;
    const std::string id = entry["Id"].get<std::string>();
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), index);
    if (ec != std::errc() || end != id.data() + id.size() || index >= count) return std::nullopt;
    return index;
  };
  if (auto successful = answer.find("Successful"); successful != answer.end() && successful->is_array()) {
    for (const auto& entry : *successful) {
      if (auto index = index_of(entry)) statuses[*index] = Status::success();
    }
  }
  if (auto failed = answer.find("Failed"); failed != answer.end() && failed->is_array()) {
    for (const auto& entry : *failed) {
      auto index = index_of(entry);
      if (!index) continue;
      const std::string code = entry.value("Code", std::string("unknown"));
      const std::string message = entry.value("Message", std::string());
      const bool sender_fault = entry.value("SenderFault", true);
      const std::string text = fmt::format("{} (entry {}): {}{}{}", context, *index, code,
                                           message.empty() ? "" : ": ", message);
      statuses[*index] = sender_fault ? Status(Error::invalid(text))
                                      : Status(Error::transient_failure(text));
    }
  }
  return statuses;
}

Status validate_sqs_characters(std::string_view body) {
  for (std::size_t at = 0; at < body.size();) {
    char32_t code_point = 0;
    const std::size_t length = utf8_sequence(body, at, code_point);
    if (length == 0) {
      return Error::invalid(fmt::format(
          "message body byte {}: not valid UTF-8 (SQS message bodies are UTF-8 text; "
          "base64-encode binary data)",
          at));
    }
    const bool allowed = code_point == 0x9 || code_point == 0xA || code_point == 0xD ||
                         (code_point >= 0x20 && code_point <= 0xD7FF) ||
                         (code_point >= 0xE000 && code_point <= 0xFFFD) ||
                         (code_point >= 0x10000 && code_point <= 0x10FFFF);
    if (!allowed) {
      return Error::invalid(fmt::format(
          "message body byte {}: character U+{:04X} is not allowed by SQS (only tab, line feed, "
          "carriage return and U+0020 and above, except U+FFFE and U+FFFF)",
          at, static_cast<std::uint32_t>(code_point)));
    }
    at += length;
  }
  return Status::success();
}

std::string md5_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

namespace {

void append_length_prefixed(std::string& out, std::string_view bytes) {
  const auto length = static_cast<std::uint32_t>(bytes.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((length >> shift) & 0xff);
  out += bytes;
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t padding = 0;
  if (text.ends_with("==")) {
    padding = 2;
  } else if (text.ends_with('=')) {
    padding = 1;
  }
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

}  // namespace

Expected<std::string> md5_of_message_attributes(const nlohmann::json& attributes) {
  if (!attributes.is_object()) return Error::internal("MessageAttributes is not an object");
  std::string encoded;
  // nlohmann's object keeps its keys sorted by byte value, the order SQS hashes them in.
  for (const auto& [name, attribute] : attributes.items()) {
    if (!attribute.is_object() || !attribute.contains("DataType") ||
        !attribute["DataType"].is_string()) {
      return Error::internal(fmt::format("message attribute {} has no DataType", name));
    }
    const std::string type = attribute["DataType"].get<std::string>();
    append_length_prefixed(encoded, name);
    append_length_prefixed(encoded, type);
    if (type.starts_with("Binary")) {
      auto value = attribute.find("BinaryValue");
      std::optional<std::string> bytes;
      if (value != attribute.end() && value->is_string()) bytes = decode_base64(value->get<std::string>());
      if (!bytes) return Error::internal(fmt::format("message attribute {} has no valid BinaryValue", name));
      encoded += '\x02';
      append_length_prefixed(encoded, *bytes);
    } else {
      auto value = attribute.find("StringValue");
      if (value == attribute.end() || !value->is_string()) {
        return Error::internal(fmt::format("message attribute {} has no StringValue", name));
      }
      encoded += '\x01';
      append_length_prefixed(encoded, value->get<std::string>());
    }
  }
  return md5_hex(encoded);
}

}  // namespace tasker::sqs
