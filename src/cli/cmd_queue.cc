#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/cli.h"
#include "cli/common.h"
#include "queue/queue_rules.h"
#include "tasker/queue.h"

namespace tasker::cli {
namespace {

/// What `tasker queue` was asked to do, filled in by CLI11.
struct QueueCommand {
  std::string action;
  std::string name;
  std::string broker;
  int visibility = 30;
  std::string dead_letter_queue;
  bool with_dead_letter_queue = false;
  int max_receive = 5;
};

int run_queue_command(const QueueCommand& command) {
  const std::string label = "queue " + command.action;
  auto address = parse_broker_address(command.broker);
  if (!address) return fail(label, address.error());
  // A queue named by the address itself (sqs://NAME or a queue URL) stands in for NAME.
  std::string name = command.name.empty() ? address->queue.value_or("") : command.name;
  if (name.empty()) {
    return fail(label, Error::invalid("NAME: give the queue's name or URL (or a broker address "
                                      "that names one, such as sqs://tasks)"));
  }
  auto broker = open_broker(*address);
  if (!broker) return fail(label, broker.error());

  if (command.action == "create") {
    QueueOptions options;
    options.visibility_timeout = std::chrono::seconds(command.visibility);
    if (command.with_dead_letter_queue) {
      options.dead_letter_queue =
          command.dead_letter_queue.empty() ? name + "-dlq" : command.dead_letter_queue;
      options.max_receive_count = command.max_receive;
    }
    if (Status created = (*broker)->create_queue(name, options); !created) {
      return fail(label, created.error());
    }
    std::cout << "created " << name;
    if (options.dead_letter_queue) {
      std::cout << " (dead-letter queue " << *options.dead_letter_queue << " after "
                << options.max_receive_count << " receives)";
    }
    std::cout << "\n";
  } else if (command.action == "delete") {
    if (Status deleted = (*broker)->delete_queue(name); !deleted) return fail(label, deleted.error());
    std::cout << "deleted " << name << "\n";
  } else if (command.action == "purge") {
    if (Status purged = (*broker)->purge_queue(name); !purged) return fail(label, purged.error());
    std::cout << "purged " << name << "\n";
  } else {
    auto queue = (*broker)->open_queue(name);
    if (!queue) return fail(label, queue.error());
    auto depth = (*queue)->depth();
    if (!depth) return fail(label, depth.error());
    std::cout << fmt::format("{}: {} visible, {} in flight, {} delayed\n", (*queue)->name(),
                             depth->visible, depth->in_flight, depth->delayed);
  }
  return kExitOk;
}

}  // namespace

std::function<int()> setup_queue(CLI::App& command) {
  auto options = std::make_shared<QueueCommand>();
  options->broker = env_or("TASKER_BROKER", "sqs://");
  command.add_option("action", options->action, "create, delete, purge or stats")
      ->required()
      ->check(CLI::IsMember({"create", "delete", "purge", "stats"}));
  command.add_option("name", options->name,
                     "the queue's name or URL (optional when --broker names the queue)");
  command.add_option("--broker", options->broker,
                     "sqlite:PATH, sqs://, sqs://NAME or a queue URL (default $TASKER_BROKER, else sqs://)")
      ->capture_default_str();
  command.add_option("--visibility", options->visibility,
                     fmt::format("create: visibility timeout in seconds, 0 to {}",
                                 kMaxVisibility.count()))
      ->check(CLI::Range(0, static_cast<int>(kMaxVisibility.count())))
      ->capture_default_str();
  CLI::Option* dead_letter = command.add_option(
      "--dlq", options->dead_letter_queue,
      "create: also create a dead-letter queue (--dlq alone: NAME-dlq; --dlq=OTHER) and the "
      "redrive policy to it");
  dead_letter->expected(0, 1);
  command.add_option("--max-receive", options->max_receive,
                     "create --dlq: deliveries before a message moves to the dead-letter queue, 1 to 1000")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  return [options, dead_letter] {
    options->with_dead_letter_queue = dead_letter->count() > 0;
    return run_queue_command(*options);
  };
}

}  // namespace tasker::cli
