#include "model/envelope.h"

#include <gtest/gtest.h>

namespace tasker {
namespace {

TEST(EnvelopeTest, ReadsIdRunAndReplyQueueOfAnInvalidTask) {
  auto envelope = peek_envelope(R"({"id":"t1","runId":"r","replyQueue":"q","arguments":5})");
  EXPECT_EQ(envelope.id, "t1");
  EXPECT_EQ(envelope.run_id, "r");
  EXPECT_EQ(envelope.reply_queue, "q");
}

TEST(EnvelopeTest, UnreadableOrUnsafeIdsAreLeftEmpty) {
  EXPECT_FALSE(peek_envelope("not json").id.has_value());
  EXPECT_FALSE(peek_envelope(R"({"id":7})").id.has_value());
  EXPECT_FALSE(peek_envelope(R"({"id":""})").id.has_value());
  EXPECT_FALSE(peek_envelope(R"({"id":"a\nb"})").id.has_value());
  EXPECT_FALSE(peek_envelope(R"({"id":"a\uffff"})").id.has_value());  // SQS refuses U+FFFF
  EXPECT_FALSE(peek_envelope(R"({"id":")" + std::string(300, 'x') + "\"}").id.has_value());
}

}  // namespace
}  // namespace tasker
