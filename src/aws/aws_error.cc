#include "aws/aws_error.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace tasker::aws {
namespace {

/// The part after the last '#' (`com.amazonaws.sqs#QueueDoesNotExist`) and before any ':'
/// (`InvalidParameterValue:http://...` in older JSON errors).
std::string short_code(std::string_view type) {
  if (const auto hash = type.rfind('#'); hash != std::string_view::npos) type.remove_prefix(hash + 1);
  if (const auto colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  return std::string(type);
}

std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (const auto& [entity, character] : kEntities) {
      if (text.substr(i, entity.size()) == entity) {
        out.push_back(character);
        i += entity.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
  return out;
}

std::string xml_element(std::string_view body, std::string_view tag) {
  const std::string open = fmt::format("<{}>", tag);
  const std::string close = fmt::format("</{}>", tag);
  const auto start = body.find(open);
  if (start == std::string_view::npos) return "";
  const auto end = body.find(close, start + open.size());
  if (end == std::string_view::npos) return "";
  return xml_unescape(body.substr(start + open.size(), end - start - open.size()));
}

/// Keeps a message on one line and of a sane length.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return text;
}

bool is_one_of(std::string_view code, std::initializer_list<std::string_view> codes) {
  for (std::string_view candidate : codes) {
    if (code == candidate) return true;
  }
  return false;
}

}  // namespace

ServiceError parse_service_error(const http::Response& response) {
  ServiceError error;
  error.http_status = response.status;
  error.request_id = response.header("x-amzn-RequestId");
  if (error.request_id.empty()) error.request_id = response.header("x-amz-request-id");
  const std::string query_error = response.header("x-amzn-query-error");
  error.query_code = query_error.substr(0, query_error.find(';'));

  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (!json.is_discarded() && json.is_object()) {
    for (const char* key : {"__type", "code", "Code"}) {
      if (json.contains(key) && json[key].is_string()) {
        error.code = short_code(json[key].get<std::string>());
        break;
      }
    }
    for (const char* key : {"message", "Message", "errorMessage"}) {
      if (json.contains(key) && json[key].is_string()) {
        error.message = json[key].get<std::string>();
        break;
      }
    }
  } else if (response.body.find('<') != std::string::npos) {
    error.code = xml_element(response.body, "Code");
    error.message = xml_element(response.body, "Message");
    if (error.request_id.empty()) error.request_id = xml_element(response.body, "RequestId");
  }
  if (error.code.empty()) error.code = response.header("x-amzn-ErrorType");
  if (error.code.empty() && !error.query_code.empty()) {
    const auto dot = error.query_code.rfind('.');
    error.code = error.query_code.substr(dot == std::string::npos ? 0 : dot + 1);
  }
  error.code = short_code(error.code);
  error.message = one_line(error.message);
  return error;
}

bool is_transient(const ServiceError& error) {
  if (error.http_status >= 500 || error.http_status == 429) return true;
  return is_one_of(error.code, {"Throttling", "ThrottlingException", "ThrottledException",
                                "RequestThrottled", "RequestThrottledException",
                                "TooManyRequestsException", "ProvisionedThroughputExceededException",
                                "RequestLimitExceeded", "SlowDown", "PriorRequestNotComplete",
                                "EC2ThrottledException", "KmsThrottled", "RequestTimeout",
                                "RequestTimeoutException", "InternalError", "InternalFailure",
                                "ServiceUnavailable", "TransactionInProgressException"});
}

Error to_error(const ServiceError& error, std::string_view context) {
  std::string detail = error.code.empty() ? fmt::format("HTTP {}", error.http_status)
                                          : fmt::format("{} (HTTP {})", error.code, error.http_status);
  if (!error.message.empty()) detail += ": " + error.message;
  if (!error.request_id.empty()) detail += fmt::format(" [request id {}]", error.request_id);
  const std::string message = fmt::format("{}: {}", context, detail);

  if (is_transient(error)) return Error::transient_failure(message);
  // SQS's in-flight limit (120,000 messages per standard queue) refuses a receive until some are
  // deleted or come back: a pause, not a refusal, so callers back off and go on.
  if (error.code == "OverLimit") {
    return Error::transient_failure(message + "; the queue has as many messages in flight as SQS "
                                              "allows (120,000): waiting for some to be deleted");
  }
  const std::string_view code = error.code;
  if (is_one_of(code, {"SignatureDoesNotMatch", "IncompleteSignature", "InvalidSignatureException"})) {
    return Error::denied(message + "; the secret access key does not match the access key id: check "
                                   "AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key");
  }
  if (is_one_of(code, {"InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId",
                       "AuthFailure"})) {
    return Error::denied(message + "; the access key id is not known to this endpoint: check "
                                   "AWS_ACCESS_KEY_ID, AWS_PROFILE and the endpoint");
  }
  if (is_one_of(code, {"ExpiredToken", "ExpiredTokenException", "RequestExpired",
                       "InvalidToken", "TokenRefreshRequired"})) {
    return Error::denied(message + "; the session token is expired or invalid: renew the credentials");
  }
  if (is_one_of(code, {"MissingAuthenticationToken", "MissingAuthenticationTokenException",
                       "AccessDenied", "AccessDeniedException", "NotAuthorized",
                       "OptInRequired", "InvalidSecurity"}) ||
      error.http_status == 401 || error.http_status == 403) {
    return Error::denied(message);
  }
  if (is_one_of(code, {"QueueDoesNotExist", "NonExistentQueue", "ResourceNotFoundException"}) ||
      error.query_code == "AWS.SimpleQueueService.NonExistentQueue" || error.http_status == 404) {
    return Error::not_found(message);
  }
  if (error.http_status >= 400 && error.http_status < 500) return Error::invalid(message);
  return Error::internal(message);
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() < kMinRedactedSecretBytes) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "[redacted]");
      at += 10;
    }
  }
  return text;
}

}  // namespace tasker::aws
