#include <string>
#include <vector>

#include "tasker/task.h"

namespace tasker {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// Inside double quotes a backslash quotes only these (POSIX, "Double-Quotes").
bool escapable_in_double_quotes(char c) {
  return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n';
}

// Appends the double-quoted part that starts at line[i] (a '"') to `word` and moves `i` past its
// closing quote.
Status read_double_quoted(std::string_view line, std::size_t& i, std::string& word) {
  for (++i; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      ++i;
      return Status::success();
    }
    if (c == '\\' && i + 1 < line.size() && escapable_in_double_quotes(line[i + 1])) {
      ++i;
      if (line[i] != '\n') word.push_back(line[i]);  // backslash-newline joins lines
    } else {
      word.push_back(c);
    }
  }
  return Error::invalid("unbalanced double quote");
}

}  // namespace

Expected<std::vector<std::string>> split_arguments(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  // A word exists once any character or quote of it is seen, so '' yields an empty word.
  bool in_word = false;
  std::size_t i = 0;
  const std::size_t n = line.size();

  while (i < n) {
    const char c = line[i];
    if (is_blank(c)) {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
    } else if (c == '\'') {
      const std::size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos) return Error::invalid("unbalanced single quote");
      word.append(line.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      TASKER_TRY(read_double_quoted(line, i, word));
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= n) return Error::invalid("trailing backslash escapes nothing");
      if (line[i + 1] != '\n') {
        word.push_back(line[i + 1]);
        in_word = true;
      }
      i += 2;
    } else {
      word.push_back(c);
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

}  // namespace tasker
