// Crash safety of the embedded queue: a producer and two consumer processes share one database,
// one consumer is killed with SIGKILL mid-stream, and every message must end up acked exactly
// once — the killed consumer's in-flight messages come back after their visibility timeout.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tasker/queue.h"
#include "testing/queue_backends.h"

extern char** environ;

namespace tasker::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

pid_t spawn_worker(const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  std::string program = TASKER_QUEUE_CRASH_WORKER;
  argv.push_back(program.data());
  std::vector<std::string> copies = arguments;
  for (std::string& argument : copies) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

/// Waits for `pid` up to `patience`; returns its exit code, or -1 after killing it on timeout.
int wait_exit(pid_t pid, std::chrono::seconds patience) {
  const auto deadline = Clock::now() + patience;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
    std::this_thread::sleep_for(milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

/// What one consumer's log says.
struct ConsumerLog {
  std::map<std::string, int> acks;    ///< body -> successful acks
  std::set<std::string> last_intent;  ///< the bodies of an ack batch with no results logged
  std::set<std::string> unacked;      ///< bodies received but never logged as acked
  std::size_t ack_lines = 0;
};

ConsumerLog read_log(const std::string& path) {
  ConsumerLog log;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    const std::string kind = line.substr(0, space);
    const std::string body = line.substr(space + 1);
    if (kind == "recv") {
      log.unacked.insert(body);
    } else if (kind == "intent") {
      log.last_intent.insert(body);
    } else if (kind == "ack" || kind == "fail") {
      log.last_intent.erase(body);
      log.unacked.erase(body);
      if (kind == "ack") {
        ++log.acks[body];
        ++log.ack_lines;
      }
    }
  }
  return log;
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) last = line;
  return last;
}

std::size_t count_acks(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::size_t acks = 0;
  while (std::getline(in, line)) acks += line.starts_with("ack ");
  return acks;
}

// Given a consumer killed after `kill_after` acks while the producer still sends, we should find
// every message acked exactly once by the end: none lost, none deleted twice.
void run_crash_scenario(std::size_t kill_after) {
  constexpr int kMessages = 3000;
  TempDir directory;
  const std::string database = directory.file("queue.db");
  const std::string stop = directory.file("stop");
  const std::string log_a = directory.file("a.log");
  const std::string log_b = directory.file("b.log");
  auto broker = open_broker(*parse_broker_address("sqlite:" + database));
  ASSERT_TRUE(broker.ok()) << broker.error().message;
  QueueOptions options;
  options.visibility_timeout = std::chrono::seconds(1);
  ASSERT_TRUE((*broker)->create_queue("crash", options).ok());

  const pid_t producer = spawn_worker({"produce", database, "crash", std::to_string(kMessages)});
  const pid_t victim = spawn_worker({"consume", database, "crash", log_a, stop, "2000"});
  const pid_t survivor = spawn_worker({"consume", database, "crash", log_b, stop, "2000"});
  ASSERT_GT(producer, 0);
  ASSERT_GT(victim, 0);
  ASSERT_GT(survivor, 0);

  const auto deadline = Clock::now() + std::chrono::seconds(20);
  // Kill while the victim works on a batch it has received and not acked.
  while (!(count_acks(log_a) >= kill_after && last_line(log_a).starts_with("recv ")) &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_EQ(::kill(victim, SIGKILL), 0);
  int status = 0;
  ::waitpid(victim, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the victim consumer had already exited";

  EXPECT_EQ(wait_exit(producer, std::chrono::seconds(30)), 0) << "the producer failed";
  std::ofstream(stop).put('\n');
  EXPECT_EQ(wait_exit(survivor, std::chrono::seconds(30)), 0) << "the surviving consumer failed";

  const ConsumerLog a = read_log(log_a);
  const ConsumerLog b = read_log(log_b);
  EXPECT_GE(a.ack_lines, kill_after);
  EXPECT_GT(b.ack_lines, 0u);
  std::size_t unconfirmed = 0;
  for (int i = 0; i < kMessages; ++i) {
    const std::string body = std::to_string(i);
    const int acks = (a.acks.contains(body) ? a.acks.at(body) : 0) +
                     (b.acks.contains(body) ? b.acks.at(body) : 0);
    EXPECT_LE(acks, 1) << "message " << body << " was deleted twice";
    if (acks == 0) {
      // Only the batch the victim was acking when it died may have been deleted unlogged.
      EXPECT_TRUE(a.last_intent.contains(body)) << "message " << body << " was lost";
      ++unconfirmed;
    }
  }
  EXPECT_LE(unconfirmed, Queue::kMaxBatch);
  std::size_t redelivered = 0;
  for (const std::string& body : a.unacked) redelivered += b.acks.contains(body);
  EXPECT_GT(redelivered, 0u) << "the victim died holding no message: nothing was redelivered";
  std::printf(
      "killed after %zu acks: %zu of the victim's unacked messages were redelivered and "
      "acked by the survivor, %zu were in its unconfirmed last ack\n",
      a.ack_lines, redelivered, unconfirmed);

  auto queue = (*broker)->open_queue("crash");
  ASSERT_TRUE(queue.ok());
  auto depth = (*queue)->depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->visible + depth->in_flight, 0) << "messages were left in the queue";
}

TEST(QueueCrashTest, ConsumerKilledEarlyLosesAndDuplicatesNoAck) { run_crash_scenario(50); }

TEST(QueueCrashTest, ConsumerKilledMidStreamLosesAndDuplicatesNoAck) { run_crash_scenario(600); }

}  // namespace
}  // namespace tasker::testing
