#include <gtest/gtest.h>

#include "tasker/task.h"

namespace tasker {
namespace {

// Given a size, format_byte_size should write it in the largest exact unit, so parse_byte_size
// reads it back.
TEST(ByteSizeTest, FormatsInTheLargestExactUnitAndReadsBack) {
  EXPECT_EQ(format_byte_size(kMinMemoryBytes), "6m");
  EXPECT_EQ(format_byte_size(kMaxMemoryBytes), "1t");
  EXPECT_EQ(format_byte_size(1536 * 1024), "1536k");
  EXPECT_EQ(format_byte_size(1000), "1000");
  EXPECT_EQ(format_byte_size(0), "0");
  for (std::int64_t bytes : {std::int64_t{0}, std::int64_t{1000}, std::int64_t{3} << 29,
                             kMinMemoryBytes, kMaxMemoryBytes, std::int64_t{5} << 41}) {
    EXPECT_EQ(*parse_byte_size(format_byte_size(bytes)), bytes) << bytes;
  }
}

}  // namespace
}  // namespace tasker
