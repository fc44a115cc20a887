#pragma once

#include <optional>

#include "aws/environment.h"
#include "tasker/signing.h"

namespace tasker {

/// The variable that holds the signing key itself.
inline constexpr const char* kSigningKeyVariable = "TASKER_SIGNING_KEY";
/// The variable that names a file holding the signing key.
inline constexpr const char* kSigningKeyFileVariable = "TASKER_SIGNING_KEY_FILE";

/// The variable that holds a key whose signatures are accepted too (rotation).
inline constexpr const char* kAcceptedKeyVariable = "TASKER_SIGNING_KEY_ACCEPT";
/// The variable that names a file holding a key whose signatures are accepted too.
inline constexpr const char* kAcceptedKeyFileVariable = "TASKER_SIGNING_KEY_ACCEPT_FILE";

/// SigningKey::from_environment against any environment, so tests can use a fake one.
Expected<std::optional<SigningKey>> signing_key_from(const aws::Environment& environment);

}  // namespace tasker
