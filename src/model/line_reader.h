#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace tasker {

/// Reads newline-separated records (JSON lines) with bounded memory: a line longer than the limit
/// is skipped to its end and reported by its size, never held whole.
class LineReader {
 public:
  struct Line {
    std::size_t number = 0;  ///< 1-based line number.
    std::string text;        ///< Without the newline (and without a trailing '\r').
    std::size_t length = 0;  ///< The line's full length in bytes, even when too long.
    bool too_long = false;   ///< Longer than the limit; `text` is then empty.
  };

  LineReader(std::istream& input, std::size_t max_line_bytes);

  /// Reads the next line; false at the end of the input.
  bool next(Line& line);

 private:
  bool fill();

  std::istream& input_;
  std::size_t max_line_bytes_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::size_t line_number_ = 0;
  bool eof_ = false;
};

}  // namespace tasker
