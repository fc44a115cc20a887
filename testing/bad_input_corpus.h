#pragma once

// The bad-input corpus (tests/data/bad_input/*.tsv): inputs that tasker must refuse with one
// clear line, read into memory with the large cases generated here rather than stored.

#include <string>
#include <string_view>
#include <vector>

namespace tasker::testing {

/// One corpus case: an input line and a fragment its one-line error must contain.
struct BadInputCase {
  std::string name;
  /// The bytes as sent, escapes decoded, placeholders replaced and generated inputs built.
  std::string input;
  /// The input as the corpus file writes it (escaped, one printable line), for reports.
  std::string written;
  /// A fragment of the expected error; empty when the input is valid and must be accepted.
  std::string expected;

  bool accepted() const { return expected.empty(); }
};

/// Values the corpus's placeholders stand for.
struct CorpusValues {
  std::string image = "busybox";  ///< `$IMAGE`
  std::string run_id = "run";     ///< `$RUN`
};

/// Reads tests/data/bad_input/`file` (e.g. "tasks.tsv"); fails the calling test on a bad line.
std::vector<BadInputCase> load_bad_input_corpus(std::string_view file, const CorpusValues& values);

/// Decodes the corpus escape \xNN (the byte NN); everything else is kept as written.
std::string decode_corpus_escapes(std::string_view text);

}  // namespace tasker::testing
