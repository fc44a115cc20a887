#include "tasker/signing.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>

#include "security/signing_environment.h"

namespace tasker {
namespace {

constexpr std::string_view kVersionPrefix = "v1=";
constexpr std::size_t kDigestBytes = 32;

using Digest = std::array<unsigned char, kDigestBytes>;

Digest hmac_sha256(std::string_view key, std::string_view body) {
  Digest digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest.data(), &length);
  return digest;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The digest a `v1=<64 lowercase hex>` attribute carries; nullopt for any other shape.
std::optional<Digest> parse_attribute(std::string_view attribute) {
  if (!attribute.starts_with(kVersionPrefix)) return std::nullopt;
  const std::string_view hex = attribute.substr(kVersionPrefix.size());
  if (hex.size() != 2 * kDigestBytes) return std::nullopt;
  Digest digest{};
  for (std::size_t i = 0; i < kDigestBytes; ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return digest;
}

// One trailing line ending ("\n" or "\r\n") is part of the file, not of the key.
std::string strip_trailing_newline(std::string text) {
  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
  return text;
}

}  // namespace

Expected<SigningKey> SigningKey::from_text(std::string_view text) {
  if (text.size() < kMinimumBytes) {
    return Error::invalid(fmt::format(
        "the signing key is {} bytes long: give at least {} (e.g. `openssl rand -hex 32`)",
        text.size(), kMinimumBytes));
  }
  return SigningKey(std::string(text));
}

namespace {

// The key one pair of variables gives (the key itself, or a file holding it); nullopt when
// neither is set. Errors name the variable, never the key.
Expected<std::optional<SigningKey>> key_from(const aws::Environment& environment,
                                             const char* text_variable, const char* file_variable) {
  // Set but empty is a mistake (a variable exported from an unset one), not "no signing": refused
  // like an empty key file, so signing is never silently off.
  for (const char* variable : {text_variable, file_variable}) {
    if (environment.is_set(variable) && !environment.get(variable)) {
      return Error::invalid(fmt::format(
          "{} is set but empty: give a key of at least {} bytes (e.g. `openssl rand -hex 32`), or "
          "unset it to run without signing",
          variable, SigningKey::kMinimumBytes));
    }
  }
  const auto text = environment.get(text_variable);
  const auto file = environment.get(file_variable);
  if (text && file) {
    return Error::invalid(
        fmt::format("{} and {} are both set: set only one", text_variable, file_variable));
  }
  if (!text && !file) return std::optional<SigningKey>();
  std::string variable = text_variable;
  std::string key_text;
  if (text) {
    key_text = *text;
  } else {
    auto content = environment.read_file(*file);
    if (!content) {
      return Error::invalid(fmt::format("{}: cannot read the key file {}", file_variable, *file));
    }
    variable = fmt::format("{} ({})", file_variable, *file);
    key_text = strip_trailing_newline(std::move(*content));
  }
  auto key = SigningKey::from_text(key_text);
  OPENSSL_cleanse(key_text.data(), key_text.size());
  if (!key) return Error::invalid(variable + ": " + key.error().message);
  return std::optional<SigningKey>(std::move(*key));
}

}  // namespace

Expected<std::optional<SigningKey>> signing_key_from(const aws::Environment& environment) {
  auto key = key_from(environment, kSigningKeyVariable, kSigningKeyFileVariable);
  if (!key) return key.error();
  auto accepted = key_from(environment, kAcceptedKeyVariable, kAcceptedKeyFileVariable);
  if (!accepted) return accepted.error();
  if (!*accepted) return key;
  if (!*key) {
    return Error::invalid(fmt::format(
        "{} is set without {} or {}: an accepted key only adds to a signing key",
        environment.get(kAcceptedKeyVariable) ? kAcceptedKeyVariable : kAcceptedKeyFileVariable,
        kSigningKeyVariable, kSigningKeyFileVariable));
  }
  (*key)->accept(**accepted);
  return key;
}

Expected<std::optional<SigningKey>> SigningKey::from_environment() {
  return signing_key_from(aws::Environment::system());
}

SigningKey::~SigningKey() {
  OPENSSL_cleanse(bytes_.data(), bytes_.capacity());
  for (auto& accepted : accepted_) OPENSSL_cleanse(accepted.data(), accepted.capacity());
}

void SigningKey::accept(const SigningKey& other) { accepted_.push_back(other.bytes_); }

std::string SigningKey::sign(std::string_view body) const {
  const Digest digest = hmac_sha256(bytes_, body);
  std::string attribute(kVersionPrefix);
  attribute.reserve(kVersionPrefix.size() + 2 * kDigestBytes);
  for (unsigned char byte : digest) attribute += fmt::format("{:02x}", byte);
  return attribute;
}

OutgoingMessage SigningKey::signed_message(std::string body) const {
  std::string signature = sign(body);
  return OutgoingMessage(std::move(body), {{kSignatureAttribute, std::move(signature)}});
}

Status SigningKey::verify(std::string_view body, const std::optional<std::string>& attribute) const {
  if (!attribute) return Error::denied("missing signature (a signing key is set, so messages must be signed)");
  const std::optional<Digest> claimed = parse_attribute(*attribute);
  if (!claimed) {
    return Error::denied(fmt::format(
        "malformed signature: attribute {} must be v1= and 64 lowercase hex digits",
        kSignatureAttribute));
  }
  const auto matches = [&](const std::string& key) {
    const Digest expected = hmac_sha256(key, body);
    return CRYPTO_memcmp(expected.data(), claimed->data(), kDigestBytes) == 0;
  };
  if (matches(bytes_) || std::any_of(accepted_.begin(), accepted_.end(), matches)) {
    return Status::success();
  }
  return Error::denied("signature does not match the body");
}

Status SigningKey::verify(const Message& message) const {
  auto found = message.attributes.find(kSignatureAttribute);
  if (found == message.attributes.end()) return verify(message.body, std::nullopt);
  return verify(message.body, found->second);
}

}  // namespace tasker
