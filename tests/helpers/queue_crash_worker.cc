// A producer or consumer process for tests/queue_crash_test.cc, which kills one consumer with
// SIGKILL mid-stream and checks from the logs that every message was acked exactly once.
//
//   queue_crash_worker produce DB QUEUE COUNT
//   queue_crash_worker consume DB QUEUE LOG STOPFILE WORK_MICROS
//
// A consumer writes, with one unbuffered write per step so a kill leaves whole lines:
// "recv <body>" for each message received, "intent <body>" just before acking a batch, and
// "ack <body>" (or "fail <body>") for each result. It exits when STOPFILE exists and the queue
// has nothing visible or in flight. WORK_MICROS is how long it "works" on each batch before
// acking, so that a kill usually finds messages in flight.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "tasker/queue.h"

namespace {

using tasker::Queue;

std::unique_ptr<Queue> open_queue(const char* database, const char* name) {
  auto address = tasker::parse_broker_address(std::string("sqlite:") + database);
  if (!address) {
    std::fprintf(stderr, "%s\n", address.error().message.c_str());
    std::exit(2);
  }
  auto broker = tasker::open_broker(*address);
  if (!broker) {
    std::fprintf(stderr, "%s\n", broker.error().message.c_str());
    std::exit(2);
  }
  auto queue = (*broker)->open_queue(name);
  if (!queue) {
    std::fprintf(stderr, "%s\n", queue.error().message.c_str());
    std::exit(2);
  }
  return std::move(*queue);
}

void write_all(int fd, const std::string& text) {
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::exit(3);
}

int produce(Queue& queue, int count) {
  for (int next = 0; next < count;) {
    std::vector<tasker::OutgoingMessage> bodies;
    while (next < count && bodies.size() < Queue::kMaxBatch)
      bodies.push_back(std::to_string(next++));
    auto sent = queue.send(bodies);
    if (!sent) {
      std::fprintf(stderr, "send: %s\n", sent.error().message.c_str());
      return 1;
    }
    for (const tasker::Status& status : *sent) {
      if (!status) return 1;
    }
    // Pace the stream so the consumers are killed while messages are still arriving.
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return 0;
}

int consume(Queue& queue, const char* log_path, const char* stop_path, int work_micros) {
  const int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return 2;
  for (;;) {
    auto batch =
        queue.receive(Queue::kMaxBatch, std::chrono::milliseconds(200), std::chrono::seconds(1));
    if (!batch) {
      std::fprintf(stderr, "receive: %s\n", batch.error().message.c_str());
      return 1;
    }
    if (batch->empty()) {
      if (!std::filesystem::exists(stop_path)) continue;
      auto depth = queue.depth();
      if (depth && depth->visible == 0 && depth->in_flight == 0) return 0;
      continue;
    }
    std::string received, intent;
    std::vector<std::string> receipts;
    for (const tasker::Message& message : *batch) {
      received += "recv " + message.body + "\n";
      intent += "intent " + message.body + "\n";
      receipts.push_back(message.receipt);
    }
    write_all(log, received);
    std::this_thread::sleep_for(std::chrono::microseconds(work_micros));
    write_all(log, intent);
    auto acked = queue.ack(receipts);
    if (!acked) {
      std::fprintf(stderr, "ack: %s\n", acked.error().message.c_str());
      return 1;
    }
    std::string results;
    for (std::size_t i = 0; i < acked->size(); ++i) {
      results += ((*acked)[i].ok() ? "ack " : "fail ") + (*batch)[i].body + "\n";
    }
    write_all(log, results);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "produce" && argc == 5)
    return produce(*open_queue(argv[2], argv[3]), std::atoi(argv[4]));
  if (mode == "consume" && argc == 7) {
    return consume(*open_queue(argv[2], argv[3]), argv[4], argv[5], std::atoi(argv[6]));
  }
  std::fprintf(stderr,
               "usage: queue_crash_worker produce DB QUEUE COUNT | "
               "consume DB QUEUE LOG STOPFILE WORK_MICROS\n");
  return 2;
}
