#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_client.h"
#include "tasker/error.h"

namespace tasker::aws {

/// An error answer from an AWS service, whatever shape it came in.
struct ServiceError {
  /// The short code: `QueueDoesNotExist`, `SignatureDoesNotMatch`, `ThrottlingException`.
  std::string code;
  /// The query-protocol code from `x-amzn-query-error`, if any
  /// (`AWS.SimpleQueueService.NonExistentQueue`).
  std::string query_code;
  std::string message;
  long http_status = 0;
  std::string request_id;
};

/// Reads an error response: a JSON body with `__type` and `message` (the JSON protocol), an XML
/// body with `<Code>` and `<Message>` (what moto and some AWS front ends answer, e.g. for a bad
/// signature), and the `x-amzn-query-error` header. Never fails: unknown shapes keep the status.
ServiceError parse_service_error(const http::Response& response);

/// True for errors worth retrying: throttling, 5xx, and the codes AWS documents as transient.
bool is_transient(const ServiceError& error);

/// Turns a service error into a typed one-line Error: `context` says what was being done
/// (`SQS SendMessageBatch on queue tasks`); wrong keys and missing queues get a hint on what to do.
Error to_error(const ServiceError& error, std::string_view context);

/// The shortest secret redact() replaces: a shorter one matches ordinary text (a secret `y` would
/// rewrite `bytes` as `b[redacted]tes`, garbling the message and telling the secret).
inline constexpr std::size_t kMinRedactedSecretBytes = 8;

/// Replaces every occurrence of each secret of at least kMinRedactedSecretBytes in `text` with
/// "[redacted]"; shorter secrets are left, as no text could be told from them.
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace tasker::aws
