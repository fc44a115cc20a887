#include "model/line_reader.h"

#include <cstring>

namespace tasker {

LineReader::LineReader(std::istream& input, std::size_t max_line_bytes)
    : input_(input), max_line_bytes_(max_line_bytes), buffer_(64 * 1024) {}

bool LineReader::fill() {
  if (eof_) return false;
  input_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  begin_ = 0;
  end_ = static_cast<std::size_t>(input_.gcount());
  if (end_ == 0) eof_ = true;
  return end_ > 0;
}

bool LineReader::next(Line& line) {
  line.text.clear();
  line.length = 0;
  line.too_long = false;
  bool any = false;
  while (true) {
    if (begin_ == end_ && !fill()) break;
    any = true;
    const char* start = buffer_.data() + begin_;
    const auto available = end_ - begin_;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', available));
    const std::size_t take = newline != nullptr ? static_cast<std::size_t>(newline - start) : available;
    line.length += take;
    if (line.length > max_line_bytes_) {
      line.too_long = true;
      line.text.clear();
      line.text.shrink_to_fit();
    } else {
      line.text.append(start, take);
    }
    begin_ += take;
    if (newline != nullptr) {
      ++begin_;
      break;
    }
  }
  if (!any) return false;
  if (!line.text.empty() && line.text.back() == '\r') {
    line.text.pop_back();
    --line.length;
  }
  line.number = ++line_number_;
  return true;
}

}  // namespace tasker
