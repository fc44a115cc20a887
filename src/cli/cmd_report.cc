#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "cli/common.h"
#include "master/report.h"

namespace tasker::cli {
namespace {

Status write_output(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return Status::success();
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Error::invalid("cannot write " + path);
  return Status::success();
}

}  // namespace

std::function<int()> setup_report(CLI::App& command) {
  auto source = std::make_shared<std::string>(".tasker");
  auto output = std::make_shared<std::string>("tasker-report.html");
  command.add_option("source", *source,
                     "State directory (tasker run's), journal (submit --state) or results file")
      ->capture_default_str();
  command.add_option("-o,--output", *output, "HTML file to write, or - for standard output")
      ->capture_default_str();
  auto joblog = std::make_shared<std::string>();
  command.add_option("--joblog", *joblog,
                     "Also write GNU parallel's --joblog (TSV) to this file, or - for standard output");
  return [source, output, joblog] {
    auto input = read_report_input(*source);
    if (!input) return fail("report", input.error());
    if (auto written = write_output(*output, render_report(*input)); !written) {
      return fail("report", written.error());
    }
    if (!joblog->empty()) {
      if (auto written = write_output(*joblog, render_joblog(*input)); !written) {
        return fail("report", written.error());
      }
    }
    std::cerr << "report: " << input->results.size() << " tasks of " << input->title << " -> "
              << (*output == "-" ? "standard output" : *output) << "\n";
    return kExitOk;
  };
}

}  // namespace tasker::cli
