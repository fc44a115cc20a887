#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "cli/common.h"
#include "master/report.h"

namespace tasker::cli {

std::function<int()> setup_report(CLI::App& command) {
  auto source = std::make_shared<std::string>(".tasker");
  auto output = std::make_shared<std::string>("tasker-report.html");
  command.add_option("source", *source,
                     "State directory (tasker run's), journal (submit --state) or results file")
      ->capture_default_str();
  command.add_option("-o,--output", *output, "HTML file to write, or - for standard output")
      ->capture_default_str();
  return [source, output] {
    auto input = read_report_input(*source);
    if (!input) return fail("report", input.error());
    const std::string html = render_report(*input);
    if (*output == "-") {
      std::cout << html;
    } else {
      std::ofstream out(*output, std::ios::binary | std::ios::trunc);
      out << html;
      out.close();
      if (!out) return fail("report", Error::invalid("cannot write " + *output));
    }
    std::cerr << "report: " << input->results.size() << " tasks of " << input->title << " -> "
              << (*output == "-" ? "standard output" : *output) << "\n";
    return kExitOk;
  };
}

}  // namespace tasker::cli
