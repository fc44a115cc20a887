#include <fmt/format.h>

#include <charconv>

#include "queue/queue_rules.h"
#include "tasker/queue.h"

namespace tasker {
namespace {

constexpr std::string_view kAcceptedForms =
    "accepted forms: sqlite:PATH, sqs://, sqs://NAME, or a queue URL "
    "http(s)://HOST[:PORT]/ACCOUNT/NAME such as "
    "https://sqs.us-east-1.amazonaws.com/123456789012/tasks";

Error bad_address(std::string_view address, std::string_view reason) {
  return Error::invalid(
      fmt::format("broker address {}: {}; {}", quote_for_message(address), reason, kAcceptedForms));
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

/// Checks `host[:port]` or `[ipv6][:port]`; returns a reason, or empty when it is fine.
std::string check_authority(std::string_view authority) {
  if (authority.empty()) return "the URL has no host";
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return "the IPv6 host has no closing ']'";
    host = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "unexpected text after the IPv6 host";
      port = rest.substr(1);
      if (port.empty()) return "the port after ':' is empty";
    }
  } else {
    const auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return "the port after ':' is empty";
    }
    if (host.empty()) return "the URL has no host";
    for (char c : host) {
      if (!is_host_char(c))
        return fmt::format("the host has the character {}",
                           quote_for_message(std::string_view(&c, 1)));
    }
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return fmt::format("the port {} is not a number from 1 to 65535", quote_for_message(port));
    }
  }
  return {};
}

/// The region of an AWS SQS host (`sqs.<region>.amazonaws.com[.cn]`), if it is one.
std::optional<std::string> aws_region(std::string_view authority) {
  const auto colon = authority.find(':');
  std::string_view host = authority.substr(0, colon);
  if (!host.starts_with("sqs.")) return std::nullopt;
  host.remove_prefix(4);
  for (std::string_view suffix : {".amazonaws.com", ".amazonaws.com.cn"}) {
    if (host.ends_with(suffix)) {
      host.remove_suffix(suffix.size());
      if (!host.empty() && host.find('.') == std::string_view::npos) return std::string(host);
    }
  }
  return std::nullopt;
}

Expected<BrokerAddress> parse_sqlite(std::string_view address, std::string_view path) {
  if (path.empty())
    return bad_address(address, "the SQLite database path after 'sqlite:' is empty");
  // A URL-style `sqlite://x` would silently mean the absolute path `//x`; say what was meant.
  if (path.starts_with("//")) {
    return bad_address(address,
                       "write sqlite:PATH without '//' (sqlite:queue.db, sqlite:/abs/q.db)");
  }
  if (path.find('\0') != std::string_view::npos) {
    return bad_address(address, "the SQLite database path contains a NUL byte");
  }
  BrokerAddress parsed;
  parsed.kind = BrokerAddress::Kind::kSqlite;
  parsed.sqlite_path = std::string(path);
  return parsed;
}

Expected<BrokerAddress> parse_sqs_name(std::string_view address, std::string_view name) {
  BrokerAddress parsed;
  parsed.kind = BrokerAddress::Kind::kSqs;
  if (name.empty()) return parsed;
  if (Status valid = validate_queue_name(name); !valid) {
    return bad_address(address, valid.error().message);
  }
  parsed.queue = std::string(name);
  return parsed;
}

Expected<BrokerAddress> parse_queue_url(std::string_view address, std::string_view scheme,
                                        std::string_view rest) {
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return bad_address(address, "a queue URL takes no query or fragment");
  }
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (std::string reason = check_authority(authority); !reason.empty()) {
    return bad_address(address, reason);
  }
  if (slash == std::string_view::npos) {
    return bad_address(address, "the URL has no /ACCOUNT/NAME path naming a queue");
  }
  const std::string_view path = rest.substr(slash + 1);
  const auto middle = path.find('/');
  if (middle == std::string_view::npos || middle == 0 ||
      path.find('/', middle + 1) != std::string_view::npos) {
    return bad_address(address, "the URL path must be exactly /ACCOUNT/NAME");
  }
  const std::string_view account = path.substr(0, middle);
  for (char c : account) {
    if (!is_host_char(c)) {
      return bad_address(
          address, fmt::format("the account {} has the character {}", quote_for_message(account),
                               quote_for_message(std::string_view(&c, 1))));
    }
  }
  const std::string_view name = path.substr(middle + 1);
  if (Status valid = validate_queue_name(name); !valid) {
    return bad_address(address, valid.error().message);
  }
  BrokerAddress parsed;
  parsed.kind = BrokerAddress::Kind::kSqs;
  parsed.queue = std::string(address);
  parsed.endpoint = fmt::format("{}://{}", scheme, authority);
  parsed.region = aws_region(authority);
  return parsed;
}

}  // namespace

Expected<BrokerAddress> parse_broker_address(std::string_view address) {
  if (address.empty()) return bad_address(address, "the address is empty");
  if (address.starts_with("sqlite:")) return parse_sqlite(address, address.substr(7));
  if (address.starts_with("sqs://")) return parse_sqs_name(address, address.substr(6));
  if (address.starts_with("https://")) return parse_queue_url(address, "https", address.substr(8));
  if (address.starts_with("http://")) return parse_queue_url(address, "http", address.substr(7));
  const auto colon = address.find(':');
  if (colon != std::string_view::npos) {
    return bad_address(
        address, fmt::format("unknown scheme {}", quote_for_message(address.substr(0, colon))));
  }
  return bad_address(address, "it has no scheme (for a file, write sqlite:PATH)");
}

}  // namespace tasker
