#include "testing/bad_input_corpus.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>

#include "tasker/task.h"

namespace tasker::testing {
namespace {

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// A task whose padding field makes the whole line exactly `size` bytes.
std::string task_of_size(const std::string& id, const std::string& image, std::size_t size) {
  const std::string head =
      R"({"id":")" + id + R"(","image":")" + image + R"(","arguments":"true","pad":")";
  const std::string tail = "\"}";
  return head + std::string(size - head.size() - tail.size(), 'x') + tail;
}

// The inputs too large to store, by the name the corpus gives them (`@name`).
const std::map<std::string, std::function<std::string(const CorpusValues&)>>& generators() {
  static const std::map<std::string, std::function<std::string(const CorpusValues&)>> kGenerators =
      {
          {"huge-id",
           [](const CorpusValues& v) {
             return R"({"id":")" + std::string(kMaxTaskIdBytes + 1, 'h') + R"(","image":")" +
                    v.image + R"(","arguments":"true"})";
           }},
          {"id-at-limit",
           [](const CorpusValues& v) {
             return R"({"id":")" + std::string(kMaxTaskIdBytes, 'i') + R"(","image":")" + v.image +
                    R"(","arguments":"true"})";
           }},
          {"body-at-limit",
           [](const CorpusValues& v) {
             return task_of_size("body-at-limit", v.image, kMaxBodyBytes);
           }},
          {"body-over-limit",
           [](const CorpusValues& v) {
             return task_of_size("body-over-limit", v.image, kMaxBodyBytes + 1);
           }},
          // Valid tasks that fit one message each but no two in one batch call; three in a row, so
          // that two of them share a batch of ten wherever the batches start.
          {"large-a",
           [](const CorpusValues& v) { return task_of_size("large-a", v.image, 150000); }},
          {"large-b",
           [](const CorpusValues& v) { return task_of_size("large-b", v.image, 150000); }},
          {"large-c",
           [](const CorpusValues& v) { return task_of_size("large-c", v.image, 150000); }},
          {"deep-nesting",
           [](const CorpusValues& v) {
             // As deep as a message may be: a stack-hungry parser or printer would crash on it.
             const std::size_t depth = (kMaxBodyBytes - 100) / 2;
             return R"({"id":"deep-nesting","image":")" + v.image + R"(","arguments":"true","x":)" +
                    std::string(depth, '[') + std::string(depth, ']') + "}";
           }},
          {"image-huge-tag",
           [](const CorpusValues&) {
             return R"({"id":"image-huge-tag","image":"busybox:)" + std::string(200, 't') +
                    R"(","arguments":"true"})";
           }},
          {"image-too-long",
           [](const CorpusValues&) {
             return R"({"id":"image-too-long","image":")" + std::string(600, 'b') +
                    R"(","arguments":"true"})";
           }},
          {"huge-result",
           [](const CorpusValues& v) {
             return R"({"id":"huge-unknown-id","isSuccess":true,"runId":")" + v.run_id +
                    R"(","payload":")" + std::string(250000, 'p') + "\"}";
           }},
      };
  return kGenerators;
}

}  // namespace

std::string decode_corpus_escapes(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x' && hex(text[i + 2]) >= 0 &&
        hex(text[i + 3]) >= 0) {
      decoded.push_back(static_cast<char>(hex(text[i + 2]) * 16 + hex(text[i + 3])));
      i += 3;
    } else {
      decoded.push_back(text[i]);
    }
  }
  return decoded;
}

std::vector<BadInputCase> load_bad_input_corpus(std::string_view file, const CorpusValues& values) {
  const std::string path =
      std::string(TASKER_SOURCE_DIR) + "/tests/data/bad_input/" + std::string(file);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<BadInputCase> cases;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line.front() == '#') continue;
    const auto first = line.find('\t');
    const auto second = first == std::string::npos ? first : line.find('\t', first + 1);
    if (second == std::string::npos || line.find('\t', second + 1) != std::string::npos) {
      ADD_FAILURE() << path << ":" << number << ": want three tab-separated columns";
      continue;
    }
    BadInputCase c;
    c.name = line.substr(0, first);
    c.written = line.substr(first + 1, second - first - 1);
    c.expected = line.substr(second + 1);
    if (c.expected == "OK") c.expected.clear();
    if (c.written.starts_with('@')) {
      auto generator = generators().find(c.written.substr(1));
      if (generator == generators().end()) {
        ADD_FAILURE() << path << ":" << number << ": no generator " << c.written;
        continue;
      }
      c.input = generator->second(values);
    } else {
      c.input = replace_all(replace_all(decode_corpus_escapes(c.written), "$IMAGE", values.image),
                            "$RUN", values.run_id);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace tasker::testing
