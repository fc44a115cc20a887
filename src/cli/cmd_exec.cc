#include <unistd.h>

#include <iostream>
#include <sstream>
#include <stop_token>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/policy_flags.h"
#include "cli/signals.h"
#include "docker/docker_client.h"
#include "docker/docker_runtime.h"

namespace tasker::cli {

std::function<int()> setup_exec(CLI::App& command) {
  struct Flags {
    std::string task = "-";
    std::string network;
    double default_timeout = 0;
    bool show_output = false;
    PolicyFlags policy;
  };
  auto f = std::make_shared<Flags>();
  command.add_option("task", f->task, "The task as JSON, or - to read it from standard input")
      ->required();
  command.add_option("--network", f->network,
                     "Network mode when the task names none (default: the daemon's)");
  command.add_option("--timeout", f->default_timeout,
                     "Seconds a task without `timeout` may run (default: no limit)")
      ->check(number_range(0, kMaxTimeoutSeconds, "s"));
  command.add_flag("--show-output", f->show_output,
                   "Also print the tail of the container's stdout and stderr on standard error");
  add_policy_flags(command, f->policy);
  return [f] {
    std::string text = f->task;
    if (text == "-") {
      std::stringstream input;
      input << std::cin.rdbuf();
      text = input.str();
    }
    auto task = parse_task(text);
    if (!task) return fail("exec", Error::invalid("invalid task: " + task.error().message));
    if (f->default_timeout < 0) return fail("exec", Error::invalid("--timeout must be positive"));
    auto policy = policy_from_flags(f->policy, 1);
    if (!policy) return fail("exec", policy.error());
    if (auto allowed = check_policy(*task, *policy); !allowed) {
      print_result(TaskResult::failure(task->id, "policy", "refused: " + allowed.error().message));
      return kExitTaskFailed;
    }

    auto endpoint = docker::endpoint_from_environment();
    if (!endpoint) return fail("exec", endpoint.error());

    // Ctrl-C kills and removes the container rather than leaving it behind.
    std::stop_source stop;
    handle_stop_signals([stop](int) mutable { stop.request_stop(); });

    docker::DockerClient client(*endpoint);
    docker::DockerRuntimeOptions options;
    if (!f->network.empty()) options.default_network = f->network;
    if (f->default_timeout > 0) {
      options.default_timeout =
          std::chrono::milliseconds(static_cast<long long>(f->default_timeout * 1000));
    }
    options.remove_in_background = false;
    options.limits = container_limits(*policy, !f->policy.max_cpus.empty());
    docker::DockerRuntime runtime(client, options);
    auto detail = runtime.run_detailed(*task, RunContext{host_name("tasker-exec"), 1}, stop.get_token());
    if (f->show_output) {
      std::cerr << "--- stdout (tail) ---\n"
                << detail.stdout_tail << "\n--- stderr (tail) ---\n"
                << detail.stderr_tail << "\n";
    }
    print_result(detail.outcome.result);
    return detail.outcome.result.is_success ? kExitOk : kExitTaskFailed;
  };
}

}  // namespace tasker::cli
