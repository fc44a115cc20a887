#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tasker/error.h"
#include "tasker/queue.h"

namespace tasker {

/// The queue message attribute that carries a task's signature, outside its body.
inline constexpr const char* kSignatureAttribute = "tasker-signature";

/// A shared secret for HMAC-SHA256 task signing. The master signs the exact bytes of each task
/// message body and sends the signature as the `tasker-signature` attribute (`v1=<hex>`); an
/// agent with the same key runs only tasks whose signature verifies. The key never appears in a
/// message, a log line or an error.
///
/// For rotation a key can also accept signatures made with other keys (accept()): it signs with
/// its own key only, and verifies against its own and each accepted one.
class SigningKey {
 public:
  /// The fewest key bytes accepted: a shorter key is a configuration mistake, not a secret.
  static constexpr std::size_t kMinimumBytes = 16;

  /// A key made of `text`'s bytes; an error when it is shorter than kMinimumBytes.
  static Expected<SigningKey> from_text(std::string_view text);

  /// The key from `TASKER_SIGNING_KEY`, or from the file `TASKER_SIGNING_KEY_FILE` names (its
  /// content, one trailing newline stripped); nullopt when neither is set. A key given the same
  /// way in `TASKER_SIGNING_KEY_ACCEPT` or `TASKER_SIGNING_KEY_ACCEPT_FILE` is accepted as well
  /// (for rotation). The error names the variable (never the key).
  static Expected<std::optional<SigningKey>> from_environment();

  SigningKey(const SigningKey& other) = default;
  SigningKey& operator=(const SigningKey& other) = default;
  SigningKey(SigningKey&& other) noexcept = default;
  SigningKey& operator=(SigningKey&& other) noexcept = default;
  ~SigningKey();

  /// Signatures made with `other`'s key verify too (its own accepted keys are not carried over).
  /// Used while a key is rotated: accept the new key everywhere, then sign with it everywhere
  /// (accepting the old one), then drop the old one.
  void accept(const SigningKey& other);

  /// The attribute value for `body`: `v1=` and the lowercase hex HMAC-SHA256 of its bytes.
  std::string sign(std::string_view body) const;

  /// `body` with its signature attribute, ready to send.
  OutgoingMessage signed_message(std::string body) const;

  /// Checks a received message's signature attribute (nullopt when it has none) against its
  /// body with its key and each accepted one, each comparison in constant time. The error says in
  /// one line what is wrong: missing, malformed, or not matching the body.
  Status verify(std::string_view body, const std::optional<std::string>& attribute) const;

  /// Checks the `tasker-signature` attribute of a received message.
  Status verify(const Message& message) const;

 private:
  explicit SigningKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
  std::vector<std::string> accepted_;  // Verify-only keys.
};

}  // namespace tasker
