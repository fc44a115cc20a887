#include "docker/output_tail.h"

#include <gtest/gtest.h>

#include <string>

namespace tasker::docker {
namespace {

// Given output in one piece, we should keep its last non-empty line, trailing space trimmed.
TEST(OutputTailTest, LastNonEmptyLine) {
  OutputTail tail;
  tail.write("first\nsecond  \n\n   \n");
  EXPECT_EQ(tail.last_line(), "second");
}

// Given an unterminated last line, we should count it.
TEST(OutputTailTest, UnterminatedLastLineCounts) {
  OutputTail tail;
  tail.write("a\nb");
  EXPECT_EQ(tail.last_line(), "b");
}

// Given no output, or only whitespace, the last line should be empty.
TEST(OutputTailTest, EmptyOutput) {
  OutputTail tail;
  EXPECT_EQ(tail.last_line(), "");
  tail.write(" \n\t\r\n");
  EXPECT_EQ(tail.last_line(), "");
}

// Given the same output cut into chunks anywhere, we should find the same line.
TEST(OutputTailTest, ChunkBoundariesDoNotMatter) {
  const std::string text = "alpha\n  beta gamma \r\n\n \ndelta\n\n";
  for (std::size_t a = 0; a <= text.size(); ++a) {
    for (std::size_t b = a; b <= text.size(); ++b) {
      OutputTail tail;
      tail.write(text.substr(0, a));
      tail.write(text.substr(a, b - a));
      tail.write(text.substr(b));
      ASSERT_EQ(tail.last_line(), "delta") << a << "," << b;
    }
  }
  OutputTail partial;
  partial.write("x\n  beta");
  partial.write(" gamma \n");
  partial.write("  \n");
  EXPECT_EQ(partial.last_line(), "  beta gamma");
}

// Given far more output than the capacity, we should keep exactly the last bytes.
TEST(OutputTailTest, KeepsBoundedTail) {
  OutputTail tail(10);
  for (int i = 0; i < 1000; ++i) tail.write(std::to_string(i) + "\n");
  EXPECT_EQ(tail.tail(), "7\n998\n999\n");
  EXPECT_EQ(tail.last_line(), "999");
  tail.write(std::string(25, 'z'));
  EXPECT_EQ(tail.tail(), std::string(10, 'z'));
  EXPECT_GT(tail.total_bytes(), 3000u);
}

// Given a line longer than the line limit, we should keep its beginning, not grow without bound.
TEST(OutputTailTest, CapsVeryLongLines) {
  OutputTail tail;
  const std::string chunk(1 << 20, 'y');
  for (int i = 0; i < 8; ++i) tail.write(chunk);
  EXPECT_EQ(tail.last_line().size(), OutputTail::kMaxLineBytes);
  tail.write("\n");
  EXPECT_EQ(tail.last_line().size(), OutputTail::kMaxLineBytes);
}

}  // namespace
}  // namespace tasker::docker
