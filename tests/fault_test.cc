// Faults of the queue's transport and storage, injected under real processes: connections to
// the SQS endpoint (moto_server) reset by a proxy the test controls, and the disk of the
// embedded SQLite queue filling up. Each test asserts that no task is lost and none is reduced
// twice; what each one observed is summarised in docs/faults.md.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tasker/queue.h"
#include "tasker/task.h"
#include "testing/process.h"
#include "testing/task_lines.h"
#include "testing/services.h"
#include "testing/tcp_proxy.h"
#include "tests/sqs_test_support.h"

namespace tasker {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::eventually;
using testing::results_by_id;
using testing::write_tasks;

/// A fresh directory per test under the system's temp directory.
std::filesystem::path make_test_dir(const std::string& kind) {
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tasker-" + kind + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(dir);
  return dir;
}

/// Checks that `results` holds exactly one result for each of t1..t`count`, and nothing else.
void expect_every_result_once(const std::map<std::string, std::vector<TaskResult>>& results, int count,
                              const std::string& context) {
  EXPECT_EQ(results.size(), static_cast<std::size_t>(count)) << context;
  for (int i = 1; i <= count; ++i) {
    const std::string id = "t" + std::to_string(i);
    const auto found = results.find(id);
    if (found == results.end()) {
      ADD_FAILURE() << id << " has no result\n" << context;
      continue;
    }
    EXPECT_EQ(found->second.size(), 1u) << id << " was reduced more than once\n" << context;
    EXPECT_TRUE(found->second[0].is_success) << id << ": " << found->second[0].payload;
  }
}

// The SQS backend on moto_server, with a TcpProxy in front of it for the process under test.
class QueueConnectionFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    TASKER_REQUIRE_ENV(endpoint, "TASKER_TEST_SQS_ENDPOINT");
    image_ = image;
    endpoint_ = endpoint;
    dir_ = make_test_dir("fault-it");
    const std::string unique = dir_.filename().string();
    tasks_name_ = "tasks-" + unique;
    results_name_ = "results-" + unique;
    auto broker = testing::sqs_broker_from_env("TASKER_TEST_SQS_ENDPOINT");
    ASSERT_TRUE(broker.ok()) << broker.error().message;
    broker_ = std::move(*broker);
    // Short visibility: a receive whose answer a reset cut off hides its messages this long.
    QueueOptions options;
    options.visibility_timeout = 5s;
    ASSERT_TRUE(broker_->create_queue(tasks_name_, options).ok());
    ASSERT_TRUE(broker_->create_queue(results_name_, options).ok());
    proxy_ = std::make_unique<testing::TcpProxy>(std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1)));
  }

  void TearDown() override {
    for (auto& process : processes_) process->signal(SIGTERM);
    for (auto& process : processes_) process->wait_for(30s);
    processes_.clear();
    proxy_.reset();
    if (broker_) {
      broker_->delete_queue(tasks_name_);
      broker_->delete_queue(results_name_);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The environment of a tasker process that reaches SQS at `endpoint`.
  static std::map<std::string, std::string> sqs_env(const std::string& endpoint) {
    return {{"AWS_ENDPOINT_URL", endpoint}, {"AWS_ACCESS_KEY_ID", "testing"},
            {"AWS_SECRET_ACCESS_KEY", "testing"}, {"AWS_REGION", "us-east-1"}};
  }

  ChildProcess& start(const std::string& name, std::vector<std::string> argv, const std::string& endpoint) {
    argv.insert(argv.begin(), TASKER_BINARY);
    processes_.push_back(std::make_unique<ChildProcess>(argv, sqs_env(endpoint), (dir_ / (name + ".log")).string()));
    return *processes_.back();
  }

  ChildProcess& start_agent(const std::string& endpoint) {
    return start("agent", {"agent", "--broker", "sqs://", "--tasks", tasks_name_, "--results", results_name_,
                           "--name", "fault-agent-" + std::to_string(::getpid()), "--slots", "4",
                           "--poll-wait", "1", "--visibility", "5", "--network", "none"},
                 endpoint);
  }

  ChildProcess& start_submit(const std::string& tasks, const std::string& endpoint,
                             std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"submit", tasks, "--wait", "--broker", "sqs://", "--tasks", tasks_name_,
                                      "--results", results_name_, "--progress", "none", "--timeout", "120"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return start("submit", argv, endpoint);
  }

  /// Waits until `master` has printed `results` results, then resets the connections through
  /// the proxy as soon as there is one open (a request in flight or an idle keep-alive one);
  /// returns how many were reset.
  int reset_after(ChildProcess& master, std::size_t results) {
    EXPECT_TRUE(eventually([&] { return results_by_id(master.output()).size() >= results; }, 60s))
        << "stuck before " << results << " results:\n" << master.output();
    int reset = 0;
    eventually([&] { return (reset += proxy_->reset_connections()) > 0; }, 10s);
    return reset;
  }

  /// The warnings a tasker process logged (text log lines at level warn), for the test's output.
  static std::string warnings(const ChildProcess& process) {
    std::string found;
    std::istringstream lines(process.output());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("Z warn ") != std::string::npos) found += "\n  " + line;
    }
    return found.empty() ? " none" : found;
  }

  std::string image_, endpoint_;
  std::filesystem::path dir_;
  std::string tasks_name_, results_name_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<testing::TcpProxy> proxy_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

// Given an agent whose every connection to SQS is reset four times while it works through 24
// tasks, we should still get one result per task from the master, and the agent keeps running.
TEST_F(QueueConnectionFaultTest, AgentConnectionsResetEveryTaskAnsweredOnce) {
  constexpr int kTasks = 24;
  const auto tasks = write_tasks(dir_ / "tasks.jsonl", image_, kTasks, "echo {n}");
  auto& agent = start_agent(proxy_->url());
  auto& master = start_submit(tasks, endpoint_);
  int reset = 0;
  for (std::size_t mark : {5, 10, 15, 20}) reset += reset_after(master, mark);
  const auto status = master.wait_for(120s);
  ASSERT_TRUE(status.has_value()) << master.output();
  EXPECT_EQ(*status, 0) << master.output();
  expect_every_result_once(results_by_id(master.output()), kTasks, master.output());
  EXPECT_GE(reset, 4) << "a reset found no connection open: the fault was not injected";
  EXPECT_FALSE(agent.wait_for(0ms).has_value()) << "the agent exited:\n" << agent.output();
  std::cout << "observed: " << reset << " connection(s) reset, " << proxy_->connections_accepted()
            << " accepted; master: " << master.output().substr(master.output().rfind("run "))
            << "agent warnings:" << warnings(agent) << "\n";
}

// Given `tasker submit --wait` whose connections are reset while it still submits (a window of 6
// keeps it submitting until the end) and while it waits, and that is refused new connections
// for a second, we should get exit 0 and every result printed once.
TEST_F(QueueConnectionFaultTest, SubmitWaitConnectionsResetEveryResultPrintedOnce) {
  constexpr int kTasks = 30;
  const auto tasks = write_tasks(dir_ / "tasks.jsonl", image_, kTasks, "echo {n}");
  start_agent(endpoint_);
  auto& master = start_submit(tasks, proxy_->url(), {"--window", "6"});
  int reset = 0;
  for (std::size_t mark : {4, 10, 16}) reset += reset_after(master, mark);
  proxy_->refuse_new_connections(1s);
  reset += reset_after(master, 22);
  reset += reset_after(master, 27);
  const auto status = master.wait_for(120s);
  ASSERT_TRUE(status.has_value()) << master.output();
  EXPECT_EQ(*status, 0) << master.output();
  expect_every_result_once(results_by_id(master.output()), kTasks, master.output());
  EXPECT_GE(reset, 5) << "a reset found no connection open: the fault was not injected";
  std::cout << "observed: " << reset << " connection(s) reset, " << proxy_->connections_accepted()
            << " accepted, " << proxy_->connections_reset() - reset << " refused or broken; "
            << master.output().substr(master.output().rfind("run ")) << "master warnings:" << warnings(master)
            << "\n";
}

/// Writes `path` until its filesystem refuses more; returns the bytes written.
std::uintmax_t fill_disk(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary);
  const std::string block(4096, '\0');
  std::uintmax_t written = 0;
  while (out.write(block.data(), block.size()) && out.flush()) written += block.size();
  return written;
}

/// What SQLite's `PRAGMA integrity_check` says of the database at `path` ("ok" when sound).
std::string integrity_check(const std::string& path) {
  sqlite3* db = nullptr;
  std::string verdict;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &statement, nullptr) == SQLITE_OK) {
      while (sqlite3_step(statement) == SQLITE_ROW) {
        verdict += reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
      }
    }
    sqlite3_finalize(statement);
  }
  if (verdict.empty()) verdict = std::string("cannot check: ") + sqlite3_errmsg(db);
  sqlite3_close(db);
  return verdict;
}

/// The lines of `output` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& output, const std::string& prefix) {
  std::vector<std::string> found;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(prefix)) found.push_back(line);
  }
  return found;
}

// The embedded queue and the journal on a 2 MiB tmpfs the test fills up. Mounting needs root
// (the harness runs as root); elsewhere the tests skip.
class DiskFullFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TASKER_REQUIRE_ENV(docker_host, "DOCKER_HOST");
    TASKER_REQUIRE_ENV(image, "TASKER_TEST_IMAGE");
    image_ = image;
    dir_ = make_test_dir("diskfull-it");
    disk_ = dir_ / "disk";
    std::filesystem::create_directories(disk_);
    if (::mount("tmpfs", disk_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=2m") != 0) {
      const std::string reason = std::strerror(errno);
      if (testing::services_required() && ::geteuid() == 0) FAIL() << "mount tmpfs on " << disk_ << ": " << reason;
      GTEST_SKIP() << "cannot mount a small tmpfs to fill (" << reason << "): run as root";
    }
    mounted_ = true;
  }

  void TearDown() override {
    processes_.clear();  // kills what still runs, so nothing keeps the mount busy
    if (mounted_ && ::umount2(disk_.c_str(), 0) != 0) ::umount2(disk_.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// Checks that `process` (`tasker <command>`) stops within a minute, without crashing, with a
  /// non-zero status and one error line that names `path` and the full disk; returns
  /// "exit N: <line>" for the test's output.
  static std::string expect_stops_with_one_line(ChildProcess& process, const std::string& command,
                                                const std::string& path) {
    const auto status = process.wait_for(60s);
    if (!status) {
      ADD_FAILURE() << "tasker " << command << " hung on a full disk:\n" << process.output();
      return "hung";
    }
    EXPECT_NE(*status, 0) << process.output();
    EXPECT_LT(*status, 128) << "tasker " << command << " crashed:\n" << process.output();
    const auto errors = lines_starting(process.output(), "tasker " + command + ": ");
    EXPECT_EQ(errors.size(), 1u) << process.output();
    if (errors.empty()) return "exit " + std::to_string(*status) + " without an error line";
    EXPECT_TRUE(errors[0].find("No space left on device") != std::string::npos ||
                errors[0].find("disk is full") != std::string::npos) << errors[0];
    EXPECT_NE(errors[0].find(path), std::string::npos) << errors[0];
    return "exit " + std::to_string(*status) + ": " + errors[0];
  }

  std::string image_;
  std::filesystem::path dir_, disk_;
  bool mounted_ = false;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

// Given `tasker run` whose state directory's disk fills up part-way, we should see it stop with
// one clear line naming the full disk (no crash, no hang), and once space is freed the same
// command should resume and print every result exactly once, over a sound database.
TEST_F(DiskFullFaultTest, RunStopsWithOneLineWhenTheDiskFillsAndResumesWhenFreed) {
  constexpr int kTasks = 12;
  // Results of 1.5 KB each make the journal and the queue need new pages within a result or two.
  const auto tasks = write_tasks(dir_ / "tasks.jsonl", image_, kTasks,
                                 "sh -c 'sleep 1; echo {n}-" + std::string(1500, 'x') + "'");
  const std::string state = (disk_ / "state").string();
  const std::vector<std::string> run = {TASKER_BINARY, "run", tasks, "-j", "2", "--progress", "none",
                                        "--state-dir", state};
  processes_.push_back(std::make_unique<ChildProcess>(run, std::map<std::string, std::string>{},
                                                      (dir_ / "first.out").string()));
  ChildProcess& first = *processes_.back();
  ASSERT_TRUE(eventually([&] { return results_by_id(first.output()).size() >= 2; }, 60s)) << first.output();
  const auto filled = fill_disk(disk_ / "filler");
  const auto full = std::chrono::steady_clock::now();
  const std::string stopped = expect_stops_with_one_line(first, "run", state);
  const auto stopping = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - full);
  ASSERT_TRUE(first.wait_for(0ms).has_value()) << "cannot resume beside a run that still holds the state";
  const auto before = results_by_id(first.output());
  std::cout << "observed: filled " << filled << " bytes; after " << before.size() << " results, stopped in "
            << stopping.count() << " ms, " << stopped << "\n";

  std::filesystem::remove(disk_ / "filler");
  std::string command;
  for (const auto& word : run) command += word + " ";  // temp paths and flags: no quoting needed
  // --replay: the resume prints again what the journal held, so its output alone is the whole run.
  command += "--replay ";
  const auto resumed = std::chrono::steady_clock::now();
  auto second = testing::run_command(command + "2>&1 >" + (dir_ / "second.out").string());
  const auto resuming = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - resumed);
  EXPECT_EQ(second.status, 0) << second.output;
  std::ifstream second_out(dir_ / "second.out");
  const std::string printed((std::istreambuf_iterator<char>(second_out)), std::istreambuf_iterator<char>());
  const auto after = results_by_id(printed);
  expect_every_result_once(after, kTasks, printed + second.output);
  for (const auto& [id, results] : before) {
    ASSERT_EQ(results.size(), 1u) << id;
    ASSERT_TRUE(after.count(id)) << id;
    EXPECT_EQ(after.at(id)[0].payload, results[0].payload) << id << " changed its result on resume";
  }
  EXPECT_EQ(integrity_check(state + "/queue.db"), "ok");
  std::cout << "observed on resume (" << resuming.count() << " ms): " << second.output;
}

// Given `tasker submit` into an SQLite queue whose disk is full (the first time with the
// database already open elsewhere, so it fails while sending batches, the second time at open),
// we should see it fail with one clear line instead of retrying forever; once space is freed,
// the same command with the same journal should leave every task in the queue (a batch may be
// there twice: at-least-once), over a sound database.
TEST_F(DiskFullFaultTest, SubmitOnFullDiskFailsWithOneLineAndResumesWhenFreed) {
  constexpr int kTasks = 40;
  const auto tasks = write_tasks(dir_ / "tasks.jsonl", image_, kTasks, "echo {n}-" + std::string(1500, 'x'));
  const std::string database = (disk_ / "queue.db").string();
  const std::vector<std::string> submit = {TASKER_BINARY, "submit", tasks, "--broker", "sqlite:" + database,
                                           "--tasks", "tasks", "--state", (disk_ / "submit.journal").string()};
  auto submit_on_full_disk = [&](const std::string& name) {
    processes_.push_back(std::make_unique<ChildProcess>(submit, std::map<std::string, std::string>{},
                                                        (dir_ / name).string()));
    // The database and the journal share the full disk: whichever write comes first fails, and
    // the line must name that file.
    std::cout << "observed: " << expect_stops_with_one_line(*processes_.back(), "submit", disk_.string())
              << "\n";
  };
  {
    // Held open, the database keeps its -wal and -shm files: the submit opens it and fails on a
    // batch.
    auto broker = open_broker(*parse_broker_address("sqlite:" + database));
    ASSERT_TRUE(broker.ok()) << broker.error().message;
    ASSERT_TRUE((*broker)->create_queue("tasks", {}).ok());
    fill_disk(disk_ / "filler");
    submit_on_full_disk("first.out");
  }
  submit_on_full_disk("second.out");

  std::filesystem::remove(disk_ / "filler");
  processes_.push_back(std::make_unique<ChildProcess>(submit, std::map<std::string, std::string>{},
                                                      (dir_ / "third.out").string()));
  ChildProcess& second = *processes_.back();
  ASSERT_EQ(second.wait_for(60s), 0) << second.output();

  auto broker = open_broker(*parse_broker_address("sqlite:" + database));
  ASSERT_TRUE(broker.ok());
  auto queue = (*broker)->open_queue("tasks");
  ASSERT_TRUE(queue.ok());
  std::map<std::string, int> copies;
  std::size_t received = 0;
  while (true) {
    auto messages = (*queue)->receive(Queue::kMaxBatch, 0ms);
    ASSERT_TRUE(messages.ok()) << messages.error().message;
    if (messages->empty()) break;
    for (const auto& message : *messages) {
      auto task = parse_task(message.body);
      ASSERT_TRUE(task.ok()) << message.body;
      ++copies[task->id];
      ++received;
    }
  }
  EXPECT_EQ(copies.size(), static_cast<std::size_t>(kTasks)) << "tasks were lost";
  std::cout << "observed on resume: " << second.output() << copies.size() << " tasks in the queue, "
            << received - copies.size() << " sent twice\n";
  queue->reset();
  broker->reset();
  EXPECT_EQ(integrity_check(database), "ok");
}

}  // namespace
}  // namespace tasker
