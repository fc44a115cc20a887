#pragma once

#include <istream>

#include "tasker/master.h"

namespace tasker {

/// A Supply reading JSON-lines tasks from a stream (a file or standard input), one at a time.
/// Blank lines are skipped; a bad line yields an error naming it (`task line 7: "arguments":
/// unbalanced single quote`) and the supply goes on. The stream must outlive the supply.
Supply json_lines_supply(std::istream& input);

}  // namespace tasker
