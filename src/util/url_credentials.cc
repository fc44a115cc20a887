#include "util/url_credentials.h"

namespace tasker {

std::string without_url_credentials(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  for (auto scheme_end = text.find("://"); scheme_end != std::string_view::npos;
       scheme_end = text.find("://", scheme_end + 3)) {
    const std::size_t authority = scheme_end + 3;
    // The authority ends at the path, query, fragment or the end of the URL (a space or a quote
    // in running text); user information is what comes before its last '@'.
    const std::size_t end = text.find_first_of("/?# \t\n'\"<>", authority);
    const std::string_view host_part = text.substr(authority, end - authority);
    const std::size_t at = host_part.rfind('@');
    if (at == std::string_view::npos) continue;
    out.append(text.substr(copied, authority - copied));
    copied = authority + at + 1;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace tasker
