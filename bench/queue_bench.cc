// Throughput and wake-up latency of the embedded SQLite queue (results in BENCHMARKS.md).
//
//   queue_bench [MESSAGES] [LATENCY_SAMPLES] [DIRECTORY]
//
// Each scenario uses a fresh database in DIRECTORY (default: a new temp directory), small
// (~100 byte) task-like bodies, and batches of 10 for send, receive and ack.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tasker/queue.h"

namespace {

using tasker::Queue;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "queue_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(tasker::Expected<T> value, const char* what) {
  if (!value) die(std::string(what) + ": " + value.error().message);
  return std::move(*value);
}

std::unique_ptr<tasker::Broker> open_database(const std::string& path) {
  return must(tasker::open_broker(must(tasker::parse_broker_address("sqlite:" + path), "address")),
              "open broker");
}

/// Creates the queue in a fresh database; the broker is closed again so forked children open
/// their own connections.
void create_queue(const std::string& path) {
  std::filesystem::remove(path);
  auto broker = open_database(path);
  tasker::QueueOptions options;
  options.visibility_timeout = std::chrono::seconds(60);
  if (!broker->create_queue("bench", options)) die("create queue");
}

std::unique_ptr<Queue> open_bench_queue(const std::string& path) {
  return must(open_database(path)->open_queue("bench"), "open queue");
}

std::string task_body(int i) {
  char body[128];
  std::snprintf(body, sizeof body,
                R"({"id":"task-%08d","image":"busybox","arguments":"/bin/sh -c 'echo %d'"})", i, i);
  return body;
}

void send_all(Queue& queue, int count) {
  for (int next = 0; next < count;) {
    std::vector<tasker::OutgoingMessage> bodies;
    while (next < count && bodies.size() < Queue::kMaxBatch) bodies.push_back(task_body(next++));
    for (const tasker::Status& status : must(queue.send(bodies), "send")) {
      if (!status) die("send entry: " + status.error().message);
    }
  }
}

void receive_and_ack_all(Queue& queue, int count) {
  for (int done = 0; done < count;) {
    auto batch = must(queue.receive(Queue::kMaxBatch, std::chrono::milliseconds(2000)), "receive");
    if (batch.empty()) die("receive timed out with messages missing");
    std::vector<std::string> receipts;
    for (const tasker::Message& message : batch) receipts.push_back(message.receipt);
    must(queue.ack(receipts), "ack");
    done += static_cast<int>(batch.size());
  }
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Runs `body` in a child process and returns its pid.
template <class Body>
pid_t fork_child(Body&& body) {
  const pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    body();
    std::_Exit(0);
  }
  return pid;
}

void wait_child(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("a child process failed");
}

void single_process_phases(const std::string& path, int count) {
  create_queue(path);
  auto queue = open_bench_queue(path);
  const auto start = Clock::now();
  send_all(*queue, count);
  const double send_seconds = seconds_since(start);
  const auto drain = Clock::now();
  receive_and_ack_all(*queue, count);
  const double drain_seconds = seconds_since(drain);
  std::printf("| 1 process, send all then receive+ack all | %d | %.0f | %.0f | %.0f |\n", count,
              count / send_seconds, count / drain_seconds, count / (send_seconds + drain_seconds));
}

void single_process_concurrent(const std::string& path, int count) {
  create_queue(path);
  auto producer_queue = open_bench_queue(path);
  auto consumer_queue = open_bench_queue(path);
  const auto start = Clock::now();
  std::thread producer([&] { send_all(*producer_queue, count); });
  receive_and_ack_all(*consumer_queue, count);
  producer.join();
  std::printf("| 1 process, producer and consumer threads | %d | | | %.0f |\n", count,
              count / seconds_since(start));
}

void two_processes(const std::string& path, int count) {
  create_queue(path);
  const auto start = Clock::now();
  const pid_t producer = fork_child([&] { send_all(*open_bench_queue(path), count); });
  const pid_t consumer = fork_child([&] { receive_and_ack_all(*open_bench_queue(path), count); });
  wait_child(producer);
  wait_child(consumer);
  std::printf("| 2 processes, producer and consumer | %d | | | %.0f |\n", count,
              count / seconds_since(start));
}

void three_processes(const std::string& path, int count) {
  create_queue(path);
  const auto start = Clock::now();
  const pid_t producer = fork_child([&] { send_all(*open_bench_queue(path), count); });
  const pid_t first = fork_child([&] { receive_and_ack_all(*open_bench_queue(path), count / 2); });
  const pid_t second =
      fork_child([&] { receive_and_ack_all(*open_bench_queue(path), count - count / 2); });
  wait_child(producer);
  wait_child(first);
  wait_child(second);
  std::printf("| 3 processes, one producer and two consumers | %d | | | %.0f |\n", count,
              count / seconds_since(start));
}

std::int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

/// A consumer waits in receive; the producer sends one message at a time stamped with the
/// monotonic clock (shared by all processes), at random 1-3 ms intervals, and the consumer
/// records send-to-receive latency.
void wake_latency(const std::string& path, int samples, bool across_processes) {
  create_queue(path);
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) die("pipe");
  auto consume = [&] {
    auto queue = open_bench_queue(path);
    std::vector<double> latencies_us;
    while (static_cast<int>(latencies_us.size()) < samples) {
      auto batch = must(queue->receive(1, std::chrono::milliseconds(5000)), "receive");
      const std::int64_t now = monotonic_ns();
      if (batch.empty()) die("latency consumer timed out");
      latencies_us.push_back((now - std::stoll(batch.front().body)) / 1000.0);
      must(queue->ack({batch.front().receipt}), "ack");
    }
    std::sort(latencies_us.begin(), latencies_us.end());
    double result[3] = {latencies_us[latencies_us.size() / 2],
                        latencies_us[latencies_us.size() * 99 / 100], latencies_us.back()};
    if (::write(pipe_fds[1], result, sizeof result) != sizeof result) die("pipe write");
  };
  auto produce = [&] {
    auto queue = open_bench_queue(path);
    std::mt19937 random(42);
    std::uniform_int_distribution<int> pause_us(1000, 3000);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the consumer start waiting
    for (int i = 0; i < samples; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(pause_us(random)));
      must(queue->send({std::to_string(monotonic_ns())}), "send");
    }
  };
  if (across_processes) {
    const pid_t consumer = fork_child(consume);
    produce();
    wait_child(consumer);
  } else {
    std::thread consumer(consume);
    produce();
    consumer.join();
  }
  double result[3];
  if (::read(pipe_fds[0], result, sizeof result) != sizeof result) die("pipe read");
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  std::printf("| %s | %d | %.0f | %.0f | %.0f |\n",
              across_processes ? "consumer in another process" : "consumer thread, same process",
              samples, result[0], result[1], result[2]);
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 50000;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 2000;
  std::string directory;
  if (argc > 3) {
    directory = argv[3];
  } else {
    std::string pattern = (std::filesystem::temp_directory_path() / "queue-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp");
    directory = pattern;
  }
  const std::string path = directory + "/bench.db";

  std::printf("Throughput, messages/s (batches of 10)\n\n");
  std::printf("| scenario | messages | send | receive+ack | send+receive+ack |\n");
  std::printf("|---|---|---|---|---|\n");
  single_process_phases(path, count);
  single_process_concurrent(path, count);
  two_processes(path, count);
  three_processes(path, count);

  std::printf("\nWake-up latency, send to receive of a waiting consumer, microseconds\n\n");
  std::printf("| scenario | samples | p50 | p99 | max |\n");
  std::printf("|---|---|---|---|---|\n");
  wake_latency(path, samples, false);
  wake_latency(path, samples, true);

  if (argc <= 3) std::filesystem::remove_all(directory);
  return 0;
}
