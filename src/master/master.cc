#include "tasker/master.h"

#include <fmt/format.h>

#include <random>
#include <utility>

#include "master/run.h"

namespace tasker {

std::string new_run_id() {
  std::random_device device;
  std::mt19937_64 generator(device());
  return fmt::format("{:012x}", generator() & 0xffffffffffffULL);
}

Master::Master(Broker& broker, MasterOptions options) : broker_(broker), options_(std::move(options)) {}

Expected<RunReport> Master::run(const Supply& supply, const ResultHandler& on_result) {
  Run run(broker_, options_, stop_requested_, on_result);
  TASKER_TRY(run.open());
  run.start(supply);
  run.receive();
  return run.finish();
}

}  // namespace tasker
