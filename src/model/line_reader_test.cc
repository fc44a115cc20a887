#include "model/line_reader.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tasker {
namespace {

TEST(LineReaderTest, ReadsLinesWithNumbersAndStripsCarriageReturns) {
  std::istringstream input("a\r\n\nbc\nlast");
  LineReader reader(input, 100);
  LineReader::Line line;
  std::vector<std::pair<std::size_t, std::string>> seen;
  while (reader.next(line)) seen.emplace_back(line.number, line.text);
  EXPECT_EQ(seen, (std::vector<std::pair<std::size_t, std::string>>{
                      {1, "a"}, {2, ""}, {3, "bc"}, {4, "last"}}));
}

// Given a line far over the limit, we should report its size without keeping it, and go on.
TEST(LineReaderTest, OverlongLineIsSkippedNotHeld) {
  std::string big(200000, 'x');
  std::istringstream input("ok\n" + big + "\nafter\n");
  LineReader reader(input, 1000);
  LineReader::Line line;
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line.text, "ok");
  ASSERT_TRUE(reader.next(line));
  EXPECT_TRUE(line.too_long);
  EXPECT_EQ(line.length, big.size());
  EXPECT_LE(line.text.capacity(), 1000u);
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line.text, "after");
  EXPECT_EQ(line.number, 3u);
  EXPECT_FALSE(reader.next(line));
}

}  // namespace
}  // namespace tasker
