#include "tasker/signing.h"

#include <gtest/gtest.h>

#include "security/signing_environment.h"
#include "testing/fake_environment.h"

namespace tasker {
namespace {

SigningKey key_of(std::string_view text) {
  auto key = SigningKey::from_text(text);
  EXPECT_TRUE(key.ok()) << key.error().message;
  return std::move(*key);
}

// RFC 4231's HMAC-SHA256 test cases whose keys are long enough for tasker (cases 2 and 5 use a
// 4-byte key and a truncated output).
struct Rfc4231Case {
  std::string key;
  std::string data;
  const char* hmac_sha256;
};

TEST(SigningKeyTest, SignsAsRfc4231Says) {
  const Rfc4231Case cases[] = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
       "\x17\x18\x19",
       std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The "
       "key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    const SigningKey key = key_of(c.key);
    EXPECT_EQ(key.sign(c.data), std::string("v1=") + c.hmac_sha256);
    EXPECT_TRUE(key.verify(c.data, std::string("v1=") + c.hmac_sha256).ok());
  }
}

TEST(SigningKeyTest, VerifiesWhatItSigned) {
  const SigningKey key = key_of("a key of at least sixteen bytes");
  const std::string body = R"({"id":"t1","image":"busybox","arguments":"echo hi"})";
  const OutgoingMessage message = key.signed_message(body);
  EXPECT_EQ(message.body, body);
  ASSERT_EQ(message.attributes.count(kSignatureAttribute), 1u);
  Message received{"1", "r", message.body, 1, message.attributes};
  EXPECT_TRUE(key.verify(received).ok());
}

TEST(SigningKeyTest, RefusesAnAlteredBody) {
  const SigningKey key = key_of("a key of at least sixteen bytes");
  const std::string signature = key.sign(R"({"id":"t1","arguments":"echo hi"})");
  Status status = key.verify(R"({"id":"t1","arguments":"rm -rf /"})", signature);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "signature does not match the body");
}

TEST(SigningKeyTest, RefusesAnotherKeysSignature) {
  const SigningKey ours = key_of("our key, sixteen bytes or more");
  const SigningKey theirs = key_of("their key, sixteen bytes or more");
  const std::string body = "the same body";
  EXPECT_FALSE(ours.verify(body, theirs.sign(body)).ok());
  EXPECT_TRUE(ours.verify(body, ours.sign(body)).ok());
}

TEST(SigningKeyTest, SaysWhenTheSignatureIsMissing) {
  const SigningKey key = key_of("a key of at least sixteen bytes");
  Message unsigned_message{"1", "r", "body", 1, {}};
  Status status = key.verify(unsigned_message);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "missing signature (a signing key is set, so messages must be signed)");
}

TEST(SigningKeyTest, RefusesMalformedAttributes) {
  const SigningKey key = key_of("a key of at least sixteen bytes");
  const std::string body = "body";
  const std::string good = key.sign(body);
  std::string upper = good;
  for (std::size_t i = 3; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  const std::string malformed[] = {
      "",                              // empty
      good.substr(3),                  // no version
      "v2=" + good.substr(3),          // unknown version
      good.substr(0, good.size() - 1), // one digit short
      good + "0",                      // one digit long
      "v1=" + std::string(64, 'g'),    // not hex
      upper,                           // upper case hex
      " " + good,                      // stray space
  };
  for (const std::string& attribute : malformed) {
    Status status = key.verify(body, attribute);
    ASSERT_FALSE(status.ok()) << attribute;
    EXPECT_NE(status.error().message.find("malformed signature"), std::string::npos)
        << status.error().message;
  }
}

TEST(SigningKeyTest, RefusesShortKeys) {
  auto key = SigningKey::from_text("fifteen bytes!!");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("15 bytes"), std::string::npos) << key.error().message;
  EXPECT_TRUE(SigningKey::from_text("sixteen bytes!!!").ok());
}

TEST(SigningKeyTest, ReadsTheKeyFromTheEnvironment) {
  testing::FakeEnvironment environment;
  auto none = signing_key_from(environment);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  environment.variables[kSigningKeyVariable] = "the environment's key, long enough";
  auto from_variable = signing_key_from(environment);
  ASSERT_TRUE(from_variable.ok()) << from_variable.error().message;
  ASSERT_TRUE(from_variable->has_value());
  EXPECT_EQ((*from_variable)->sign("x"), key_of("the environment's key, long enough").sign("x"));
}

TEST(SigningKeyTest, ReadsTheKeyFileWithoutItsTrailingNewline) {
  testing::FakeEnvironment environment;
  environment.variables[kSigningKeyFileVariable] = "/secrets/key";
  environment.files["/secrets/key"] = "a key kept in a file\n";
  auto key = signing_key_from(environment);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->sign("x"), key_of("a key kept in a file").sign("x"));
}

TEST(SigningKeyTest, NamesTheVariableButNeverTheKeyInErrors) {
  testing::FakeEnvironment environment;
  environment.variables[kSigningKeyVariable] = "short-secret";
  auto key = signing_key_from(environment);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find(kSigningKeyVariable), std::string::npos) << key.error().message;
  EXPECT_EQ(key.error().message.find("short-secret"), std::string::npos) << key.error().message;
  EXPECT_EQ(key.error().message.find('\n'), std::string::npos);

  environment.variables.clear();
  environment.variables[kSigningKeyFileVariable] = "/missing";
  auto unreadable = signing_key_from(environment);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.error().message.find(kSigningKeyFileVariable), std::string::npos);

  environment.files["/short"] = "tiny-secret\n";
  environment.variables[kSigningKeyFileVariable] = "/short";
  auto short_file = signing_key_from(environment);
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(short_file.error().message.find(kSigningKeyFileVariable), std::string::npos);
  EXPECT_EQ(short_file.error().message.find("tiny-secret"), std::string::npos);
}

// Given TASKER_SIGNING_KEY set but empty (as `export TASKER_SIGNING_KEY=$UNSET_VAR` leaves it), we
// should refuse it naming the variable, as an empty key file is refused, not run unsigned.
TEST(SigningKeyTest, RefusesAVariableSetButEmpty) {
  for (const char* variable : {kSigningKeyVariable, kSigningKeyFileVariable, kAcceptedKeyVariable}) {
    testing::FakeEnvironment environment;
    environment.variables[kSigningKeyVariable] = "the environment's key, long enough";
    environment.variables[variable] = "";
    auto key = signing_key_from(environment);
    ASSERT_FALSE(key.ok()) << variable;
    EXPECT_EQ(key.error().message.find(std::string(variable) + " is set but empty"), 0u)
        << key.error().message;
  }
}

TEST(SigningKeyTest, RefusesBothVariablesAtOnce) {
  testing::FakeEnvironment environment;
  environment.variables[kSigningKeyVariable] = "the environment's key, long enough";
  environment.variables[kSigningKeyFileVariable] = "/secrets/key";
  environment.files["/secrets/key"] = "a key kept in a file\n";
  EXPECT_FALSE(signing_key_from(environment).ok());
}

// Given a key that also accepts an old key (rotation), signatures of either verify, its own
// signatures are made with its own key only, and a third key's are still refused.
TEST(SigningKeyTest, AcceptsTheKeysItWasToldToAcceptButSignsWithItsOwn) {
  const SigningKey old_key = key_of("the old key, retiring soon");
  SigningKey new_key = key_of("the new key, signing from now");
  const std::string body = R"({"id":"t1"})";
  EXPECT_FALSE(new_key.verify(body, old_key.sign(body)).ok());
  new_key.accept(old_key);
  EXPECT_TRUE(new_key.verify(body, old_key.sign(body)).ok());
  EXPECT_TRUE(new_key.verify(body, new_key.sign(body)).ok());
  EXPECT_EQ(new_key.sign(body), key_of("the new key, signing from now").sign(body));
  EXPECT_FALSE(old_key.verify(body, new_key.sign(body)).ok());
  auto refused = new_key.verify(body, key_of("a third key, never accepted").sign(body));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "signature does not match the body");
  EXPECT_FALSE(new_key.verify(R"({"id":"t2"})", old_key.sign(body)).ok());
}

TEST(SigningKeyTest, ReadsTheAcceptedKeyFromTheEnvironment) {
  testing::FakeEnvironment environment;
  environment.variables[kSigningKeyVariable] = "the new key, signing from now";
  environment.variables[kAcceptedKeyFileVariable] = "/secrets/old";
  environment.files["/secrets/old"] = "the old key, retiring soon\n";
  auto key = signing_key_from(environment);
  ASSERT_TRUE(key.ok()) << key.error().message;
  ASSERT_TRUE(key->has_value());
  const std::string body = "x";
  EXPECT_EQ((*key)->sign(body), key_of("the new key, signing from now").sign(body));
  EXPECT_TRUE((*key)->verify(body, key_of("the old key, retiring soon").sign(body)).ok());

  environment.files.clear();
  environment.variables.erase(kAcceptedKeyFileVariable);
  environment.variables[kAcceptedKeyVariable] = "the old key, retiring soon";
  key = signing_key_from(environment);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_TRUE((*key)->verify(body, key_of("the old key, retiring soon").sign(body)).ok());
}

TEST(SigningKeyTest, AcceptedKeyErrorsNameTheVariable) {
  testing::FakeEnvironment environment;
  environment.variables[kAcceptedKeyVariable] = "the old key, retiring soon";
  auto alone = signing_key_from(environment);
  ASSERT_FALSE(alone.ok());
  EXPECT_EQ(alone.error().message,
            "TASKER_SIGNING_KEY_ACCEPT is set without TASKER_SIGNING_KEY or "
            "TASKER_SIGNING_KEY_FILE: an accepted key only adds to a signing key");

  environment.variables[kSigningKeyVariable] = "the new key, signing from now";
  environment.variables[kAcceptedKeyVariable] = "short-old";
  auto short_key = signing_key_from(environment);
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.error().message.rfind(kAcceptedKeyVariable, 0), 0u) << short_key.error().message;
  EXPECT_EQ(short_key.error().message.find("short-old"), std::string::npos);

  environment.variables[kAcceptedKeyVariable] = "the old key, retiring soon";
  environment.variables[kAcceptedKeyFileVariable] = "/secrets/old";
  environment.files["/secrets/old"] = "the old key, retiring soon";
  auto both = signing_key_from(environment);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().message,
            "TASKER_SIGNING_KEY_ACCEPT and TASKER_SIGNING_KEY_ACCEPT_FILE are both set: set only one");
}

}  // namespace
}  // namespace tasker
