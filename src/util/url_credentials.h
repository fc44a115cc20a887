#pragma once

#include <string>
#include <string_view>

namespace tasker {

/// `text` with the user information of every URL in it removed: `http://admin:PASSWORD@host:5399/`
/// becomes `http://host:5399/`. Errors and logs quote endpoints and addresses as the user gave
/// them, and a password there must never be printed.
std::string without_url_credentials(std::string_view text);

}  // namespace tasker
