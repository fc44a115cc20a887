#include "model/json_util.h"

#include <gtest/gtest.h>

#include "tasker/task.h"

namespace tasker {
namespace {

// Given a message of nothing but brackets, the parser must refuse it up front: nlohmann's parser
// and printer recurse, and 130,000 levels overflow the stack of an agent or a master.
TEST(JsonUtilTest, DeepNestingIsRefusedBeforeParsing) {
  const std::size_t depth = kMaxBodyBytes / 2 - 10;
  const std::string deep = R"({"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  auto parsed = json_util::parse_object(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message, "not valid JSON at byte 104: nested deeper than 100 levels");
}

TEST(JsonUtilTest, NestingUpToTheLimitAndBracketsInStringsAreFine) {
  const std::size_t depth = json_util::kMaxJsonDepth - 1;
  EXPECT_TRUE(
      json_util::parse_object(R"({"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}")
          .ok());
  EXPECT_TRUE(json_util::parse_object(R"({"x":")" + std::string(500, '[') + R"(\"{{"})").ok());
}

TEST(JsonUtilTest, PrintableEscapesEverythingOutsidePrintableAscii) {
  EXPECT_EQ(json_util::printable(std::string("a\nb\0c\xff", 6)), "a\\x0ab\\x00c\\xff");
}

// Field errors quote the input; a quoted newline or escape must not break the one-line message.
TEST(JsonUtilTest, TaskErrorsQuotingInputStayOnePrintableLine) {
  auto task = parse_task(R"({"id":"a","image":"busybox","arguments":"true","env":{"A\n=":"1"}})");
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.error().message, "\"env\": variable name 'A\\x0a=' is empty or contains '='");
  task = parse_task(R"({"id":"a","image":"busybox","arguments":"true","memory":"1\u001bm"})");
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.error().message.find('\x1b'), std::string::npos) << task.error().message;
}

// U+FFFE and U+FFFF are valid JSON but SQS refuses bodies holding them: a task whose id or run id
// has one could never be answered, so it is refused, and an agent does not try to answer it.
TEST(JsonUtilTest, IdsWithCharactersSqsRefusesAreInvalidAndNotEchoed) {
  auto task = parse_task(R"({"id":"a\uffff","image":"busybox","arguments":"true"})");
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.error().message, "\"id\": contains a character SQS refuses (U+FFFE or U+FFFF)");
  EXPECT_FALSE(
      parse_task(R"({"id":"a","runId":"\ufffe","image":"busybox","arguments":"true"})").ok());
  EXPECT_TRUE(parse_task(R"({"id":"a\ufffd","image":"busybox","arguments":"true"})").ok());
}

TEST(JsonUtilTest, RegistryPortMustBeOneTo65535) {
  EXPECT_TRUE(validate_image_reference("localhost:65535/busybox").ok());
  EXPECT_FALSE(validate_image_reference("localhost:65536/busybox").ok());
  EXPECT_FALSE(validate_image_reference("localhost:99999/busybox").ok());
  EXPECT_FALSE(validate_image_reference("localhost:0/busybox").ok());
}

}  // namespace
}  // namespace tasker
