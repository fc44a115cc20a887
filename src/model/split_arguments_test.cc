#include <gtest/gtest.h>

#include "tasker/task.h"

namespace tasker {
namespace {

std::vector<std::string> words(std::string_view line) {
  auto result = split_arguments(line);
  EXPECT_TRUE(result.ok()) << line << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : std::vector<std::string>{};
}

std::string error_of(std::string_view line) {
  auto result = split_arguments(line);
  return result.ok() ? "(no error)" : result.error().message;
}

using Words = std::vector<std::string>;

// Given the seed task's arguments, we should get the three words docker-tasker runs.
TEST(SplitArgumentsTest, SeedExampleIsThreeWords) {
  EXPECT_EQ(words("/bin/bash -c 'sleep 10; echo 1'"),
            (Words{"/bin/bash", "-c", "sleep 10; echo 1"}));
}

TEST(SplitArgumentsTest, BlanksSeparateWordsAndCollapse) {
  EXPECT_EQ(words("  a \t b\n\nc  "), (Words{"a", "b", "c"}));
  EXPECT_EQ(words(""), Words{});
  EXPECT_EQ(words("   "), Words{});
}

TEST(SplitArgumentsTest, SingleQuotesKeepEverythingLiteral) {
  EXPECT_EQ(words(R"('a "b" \c $d')"), (Words{R"(a "b" \c $d)"}));
  EXPECT_EQ(words("''"), (Words{""}));
  EXPECT_EQ(words("a'b c'd"), (Words{"ab cd"}));
}

TEST(SplitArgumentsTest, DoubleQuotesEscapeOnlyShellSpecials) {
  EXPECT_EQ(words(R"("a \"b\" \\ \$x \` \n")"), (Words{R"(a "b" \ $x ` \n)"}));
  EXPECT_EQ(words(R"("")"), (Words{""}));
  EXPECT_EQ(words("\"it's\""), (Words{"it's"}));
  EXPECT_EQ(words("\"a\\\nb\""), (Words{"ab"}));
}

TEST(SplitArgumentsTest, UnquotedBackslashQuotesNextCharacter) {
  EXPECT_EQ(words(R"(a\ b \'c\' \\)"), (Words{"a b", "'c'", "\\"}));
  EXPECT_EQ(words("a\\\nb"), (Words{"ab"}));
}

TEST(SplitArgumentsTest, NoExpansionsOrOperators) {
  EXPECT_EQ(words("echo $HOME * ~ a;b | c"), (Words{"echo", "$HOME", "*", "~", "a;b", "|", "c"}));
}

TEST(SplitArgumentsTest, Utf8PassesThrough) {
  EXPECT_EQ(words("echo 'héllo wörld' 日本"), (Words{"echo", "héllo wörld", "日本"}));
}

TEST(SplitArgumentsTest, UnbalancedQuotesAndTrailingBackslashAreErrors) {
  EXPECT_EQ(error_of("sh -c 'echo"), "unbalanced single quote");
  EXPECT_EQ(error_of("sh -c \"echo"), "unbalanced double quote");
  EXPECT_EQ(error_of("sh -c \"echo \\\""), "unbalanced double quote");
  EXPECT_EQ(error_of("echo \\"), "trailing backslash escapes nothing");
}

}  // namespace
}  // namespace tasker
