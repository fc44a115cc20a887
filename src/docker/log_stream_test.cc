#include "docker/log_stream.h"

#include <gtest/gtest.h>

#include <string>

namespace tasker::docker {
namespace {

std::string frame(StreamKind stream, std::string_view payload) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  const auto size = static_cast<std::uint32_t>(payload.size());
  out[4] = static_cast<char>(size >> 24);
  out[5] = static_cast<char>(size >> 16);
  out[6] = static_cast<char>(size >> 8);
  out[7] = static_cast<char>(size);
  return out + std::string(payload);
}

struct Collected {
  std::string out;
  std::string err;
};

LogStreamDecoder collector(Collected& collected) {
  return LogStreamDecoder([&collected](StreamKind stream, std::string_view data) {
    (stream == StreamKind::kStderr ? collected.err : collected.out).append(data);
  });
}

// Given frames of both streams, we should separate stdout from stderr in order.
TEST(LogStreamDecoderTest, SeparatesStdoutAndStderr) {
  Collected collected;
  auto decoder = collector(collected);
  const std::string stream = frame(StreamKind::kStdout, "one\n") +
                             frame(StreamKind::kStderr, "oops\n") +
                             frame(StreamKind::kStdout, "two\n");
  ASSERT_TRUE(decoder.feed(stream));
  EXPECT_EQ(collected.out, "one\ntwo\n");
  EXPECT_EQ(collected.err, "oops\n");
  EXPECT_TRUE(decoder.at_frame_boundary());
}

// Given the same bytes cut at every possible place, we should decode the same output.
TEST(LogStreamDecoderTest, ChunkBoundariesDoNotMatter) {
  const std::string stream = frame(StreamKind::kStdout, "hello ") + frame(StreamKind::kStderr, "") +
                             frame(StreamKind::kStderr, "world") +
                             frame(StreamKind::kStdout, std::string(300, 'x'));
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    Collected collected;
    auto decoder = collector(collected);
    ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(0, cut)));
    ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(cut)));
    EXPECT_EQ(collected.out, "hello " + std::string(300, 'x')) << "cut at " << cut;
    EXPECT_EQ(collected.err, "world") << "cut at " << cut;
  }
  Collected byte_by_byte;
  auto decoder = collector(byte_by_byte);
  for (char c : stream) ASSERT_TRUE(decoder.feed(std::string_view(&c, 1)));
  EXPECT_EQ(byte_by_byte.err, "world");
}

// Given a stream that stops inside a frame, we should say so.
TEST(LogStreamDecoderTest, ReportsTruncatedFrame) {
  Collected collected;
  auto decoder = collector(collected);
  ASSERT_TRUE(decoder.feed(frame(StreamKind::kStdout, "abcdef").substr(0, 10)));
  EXPECT_EQ(collected.out, "ab");
  EXPECT_FALSE(decoder.at_frame_boundary());
}

// Given raw TTY output instead of frames, we should fail clearly, and keep failing.
TEST(LogStreamDecoderTest, RejectsMalformedHeader) {
  Collected collected;
  auto decoder = collector(collected);
  auto status = decoder.feed("hello world, not framed\n");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("malformed frame header"), std::string::npos);
  EXPECT_FALSE(decoder.feed(frame(StreamKind::kStdout, "x")));
  EXPECT_TRUE(collected.out.empty());
}

}  // namespace
}  // namespace tasker::docker
