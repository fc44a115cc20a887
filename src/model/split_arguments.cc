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
      in_word = true;
      ++i;
      bool closed = false;
      while (i < n) {
        const char d = line[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < n && escapable_in_double_quotes(line[i + 1])) {
          if (line[i + 1] != '\n') word.push_back(line[i + 1]);  // backslash-newline joins lines
          i += 2;
          continue;
        }
        word.push_back(d);
        ++i;
      }
      if (!closed) return Error::invalid("unbalanced double quote");
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
