#include "tasker/master.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tasker/agent.h"
#include "testing/fake_queue.h"
#include "testing/fake_runtime.h"

namespace tasker {
namespace {

using testing::FakeBroker;
using testing::FakeRuntime;
using namespace std::chrono_literals;

// A supply of `count` tasks "echo N" with ids t1..tN, made lazily.
Supply echo_supply(int count, int* made = nullptr) {
  auto next = std::make_shared<int>(0);
  return [count, next, made]() -> std::optional<Expected<Task>> {
    if (*next >= count) return std::nullopt;
    ++*next;
    if (made) *made = *next;
    Task task;
    task.id = "t" + std::to_string(*next);
    task.image = "busybox";
    task.argv = {"echo", std::to_string(*next)};
    return Expected<Task>(std::move(task));
  };
}

class MasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.create_queue("tasks", {}).ok());
    ASSERT_TRUE(broker_.create_queue("results", {}).ok());
  }
  void TearDown() override { stop_agent(); }

  MasterOptions options() {
    MasterOptions o;
    o.tasks_queue = "tasks";
    o.results_queue = "results";
    o.poll_wait = 50ms;
    o.timeout = 20s;
    return o;
  }

  void start_agent(std::size_t slots = 4) {
    AgentOptions o;
    o.slots = slots;
    o.results_queue = "results";
    o.poll_wait = 50ms;
    agent_ = std::make_unique<Agent>(broker_, std::move(*broker_.open_queue("tasks")), runtime_, o);
    agent_thread_ = std::thread([this] { ASSERT_TRUE(agent_->run().ok()); });
  }
  void stop_agent() {
    if (!agent_) return;
    agent_->request_stop();
    agent_thread_.join();
    agent_.reset();
  }

  // Runs a master on echo_supply(supply, or count when 0) until the tasks queue has had `count`
  // messages, then stops it as Ctrl-C would.
  Expected<RunReport> run_until_sent(const MasterOptions& o, int count, const ResultHandler& handler,
                                     int supply = 0) {
    Master master(broker_, o);
    Expected<RunReport> report = Error::internal("not run");
    std::thread run([&] { report = master.run(echo_supply(supply > 0 ? supply : count), handler); });
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        auto tasks = broker_.state("tasks");
        std::lock_guard lock(tasks->mutex);
        if (tasks->sent == count) break;
      }
      std::this_thread::sleep_for(5ms);
    }
    master.request_stop();
    run.join();
    return report;
  }

  std::string temp_file() {
    auto path = std::filesystem::temp_directory_path() /
                ("tasker-master-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove(path);
    files_.push_back(path);
    return path;
  }
  ~MasterTest() override {
    for (const auto& f : files_) std::filesystem::remove(f);
  }

  FakeBroker broker_;
  FakeRuntime runtime_;
  std::unique_ptr<Agent> agent_;
  std::thread agent_thread_;
  std::vector<std::filesystem::path> files_;
  int counter_ = 0;
};

// The seed's SimpleSum: ten tasks echo 1..10, reduce sums the payloads, termination sees 55.
TEST_F(MasterTest, SimpleSumReducesEveryResultOnceThenTerminates) {
  start_agent();
  Master master(broker_, options());
  Job<int> job;
  job.supply = echo_supply(10);
  job.reduce = [](const TaskResult& result, int& sum) { sum += std::stoi(result.payload); };
  int terminations = 0;
  int final_sum = 0;
  job.termination = [&](int& sum) {
    ++terminations;
    final_sum = sum;
  };
  auto report = run_job(master, job);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(final_sum, 55);
  EXPECT_EQ(terminations, 1);
  EXPECT_EQ(report->succeeded, 10u);
  EXPECT_FALSE(report->timed_out);
  EXPECT_TRUE(broker_.bodies("results").empty());
}

// Given a results queue that fails every receive for a reason retrying cannot fix (its disk full,
// the queue deleted, the credentials refused), the run should end with that error at once rather
// than retry receiving without end.
TEST_F(MasterTest, PermanentReceiveErrorsEndTheRunWithTheError) {
  start_agent();
  for (const Error& error : {Error::no_space("sqlite:results.db: database or disk is full"),
                             Error::not_found("SQS ReceiveMessage on queue results: NonExistentQueue"),
                             Error::denied("SQS ReceiveMessage on queue results: AccessDenied")}) {
    broker_.state("results")->failing_receives = 1000;
    broker_.state("results")->injected_error = error;
    Master master(broker_, options());
    Job<int> job;
    job.supply = echo_supply(3);
    job.reduce = [](const TaskResult&, int&) {};
    job.termination = [](int&) {};
    const auto start = std::chrono::steady_clock::now();
    auto report = run_job(master, job);
    ASSERT_FALSE(report.ok()) << error.message;
    EXPECT_EQ(report.error().kind, error.kind) << error.message;
    EXPECT_EQ(report.error().message, error.message);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << error.message << " was retried";
  }
}

// Given a results queue that fails a few receives with a transient error, the run should retry
// and get every result.
TEST_F(MasterTest, TransientReceiveErrorsAreRetried) {
  broker_.state("results")->failing_receives = 3;
  broker_.state("results")->injected_error = Error::unavailable("SQS ReceiveMessage: connection reset");
  start_agent();
  Master master(broker_, options());
  std::map<std::string, int> seen;
  auto report = master.run(echo_supply(3), [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(seen.size(), 3u);
}

// Given a results queue at SQS's in-flight limit for a while (OverLimit on receive), the master
// should back off and go on, and get every result.
TEST_F(MasterTest, ResultsQueueAtTheInFlightLimitIsWaitedOut) {
  broker_.state("results")->failing_receives = 3;
  broker_.state("results")->injected_error = testing::sqs_receive_over_limit();
  start_agent();
  Master master(broker_, options());
  std::map<std::string, int> seen;
  auto report = master.run(echo_supply(3), [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(seen.size(), 3u);
}

// Given every result delivered twice (at-least-once), reduce should still see each id once and
// the duplicates should be deleted.
TEST_F(MasterTest, DuplicateResultsAreReducedOnce) {
  std::thread doubler([&] {
    auto tasks = std::move(*broker_.open_queue("tasks"));
    auto results = std::move(*broker_.open_queue("results"));
    int answered = 0;
    while (answered < 5) {
      auto got = tasks->receive(10, 100ms);
      for (const auto& m : *got) {
        auto task = parse_task(m.body);
        auto body = to_json(TaskResult::success(task->id, "1"));
        ASSERT_TRUE(results->send({body, body}).ok());
        ASSERT_TRUE(tasks->ack({m.receipt}).ok());
        ++answered;
      }
    }
  });
  Master master(broker_, options());
  std::map<std::string, int> seen;
  auto report = master.run(echo_supply(5), [&](const TaskResult& r) { ++seen[r.id]; });
  doubler.join();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(seen.size(), 5u);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  // Duplicates that arrived before the end were counted and deleted; none is left behind
  // unseen except ones still arriving after the run ended.
  EXPECT_LE(broker_.bodies("results").size() + report->duplicates, 5u);
}

// Given two masters on one results queue, each should reduce only its own results, leaving the
// other's for it: one call at a time, and with helper threads (which hand the other's back).
TEST_F(MasterTest, TwoMastersOnTheSameQueuesGetOnlyTheirOwnResults) {
  start_agent(4);
  for (std::size_t calls : {1, 4}) {
    SCOPED_TRACE("calls in flight: " + std::to_string(calls));
    std::map<std::string, int> seen_a, seen_b;
    auto o = options();
    o.calls_in_flight = calls;
    o.run_id = "run-a-" + std::to_string(calls);
    Master a(broker_, o);
    o.run_id = "run-b-" + std::to_string(calls);
    Master b(broker_, o);
    Expected<RunReport> report_b = Error::internal("not run");
    std::thread other([&] { report_b = b.run(echo_supply(8), [&](const TaskResult& r) { ++seen_b[r.id]; }); });
    auto report_a = a.run(echo_supply(8), [&](const TaskResult& r) { ++seen_a[r.id]; });
    other.join();
    ASSERT_TRUE(report_a.ok()) << report_a.error().message;
    ASSERT_TRUE(report_b.ok()) << report_b.error().message;
    EXPECT_EQ(seen_a.size(), 8u);
    EXPECT_EQ(seen_b.size(), 8u);
    EXPECT_EQ(report_a->succeeded, 8u);
    EXPECT_EQ(report_b->succeeded, 8u);
    EXPECT_TRUE(broker_.bodies("results").empty()) << "every result deleted by its own master";
  }
}

// Given a run that stops part-way (here: its timeout) and a second master started with the same
// state file, nothing is sent twice and every result is reduced exactly once across the two.
TEST_F(MasterTest, ResumeWithTheStateFileResubmitsNothingAndGetsEveryResult) {
  const auto state = temp_file();
  auto o = options();
  o.state_file = state;
  std::map<std::string, int> seen;
  {
    // No agent yet: everything is submitted, nothing answered; then the run is stopped (as by
    // Ctrl-C). Stopped once all 12 are sent, not by a short timeout, which a loaded machine can
    // reach before the supply thread has sent them.
    auto report = run_until_sent(o, 12, [&](const TaskResult& r) { ++seen[r.id]; });
    ASSERT_TRUE(report.ok()) << report.error().message;
    EXPECT_TRUE(report->interrupted);
    EXPECT_EQ(report->missing_count, 12u);
  }
  EXPECT_EQ(broker_.state("tasks")->sent, 12);
  start_agent();
  o.timeout = 20s;
  Master second(broker_, o);
  auto report = second.run(echo_supply(12), [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(broker_.state("tasks")->sent, 12);  // nothing resubmitted
  EXPECT_EQ(seen.size(), 12u);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;

  // A third start replays the journal: every result again, once each, with nothing sent.
  std::map<std::string, int> replayed;
  Master third(broker_, o);
  report = third.run(echo_supply(12), [&](const TaskResult& r) { ++replayed[r.id]; });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(replayed.size(), 12u);
  EXPECT_EQ(broker_.state("tasks")->sent, 12);
}

// Given several send calls in flight (as on SQS), every task should be sent once, and a run
// stopped part-way and resumed should send nothing again and reduce every result once.
TEST_F(MasterTest, ParallelSendsSendEachTaskOnceAndResumeFromTheJournal) {
  const auto state = temp_file();
  auto o = options();
  o.state_file = state;
  o.calls_in_flight = 4;
  std::map<std::string, int> seen;
  auto first = run_until_sent(o, 200, [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->submitted, 200u);
  EXPECT_EQ(broker_.state("tasks")->sent, 200);
  start_agent();
  auto report = Master(broker_, o).run(echo_supply(200), [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(broker_.state("tasks")->sent, 200);  // nothing resubmitted
  EXPECT_EQ(report->succeeded, 200u)
      << "duplicates " << report->duplicates << ", missing " << report->missing_count
      << ", still in the results queue " << broker_.bodies("results").size();
  EXPECT_EQ(seen.size(), 200u);
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

// Given a resumed run whose results are already waiting in the queue and whose input is slow to
// read again, no result should be taken for a duplicate (and deleted) before the tasks the earlier
// process sent are read again: every result is reduced once.
TEST_F(MasterTest, ResumeReadsTheSentTasksAgainBeforeTakingResults) {
  const auto state = temp_file();
  auto o = options();
  o.state_file = state;
  auto first = run_until_sent(o, 50, [](const TaskResult&) {});
  ASSERT_TRUE(first.ok()) << first.error().message;
  start_agent();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (broker_.bodies("results").size() < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(broker_.bodies("results").size(), 50u);
  stop_agent();

  auto fast = echo_supply(50);
  Supply slow = [fast]() {
    std::this_thread::sleep_for(2ms);
    return fast();
  };
  std::map<std::string, int> seen;
  auto report = Master(broker_, o).run(slow, [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->duplicates, 0u);
  EXPECT_EQ(report->succeeded, 50u) << "missing " << report->missing_count;
  EXPECT_EQ(seen.size(), 50u);
}

// Given a run stopped while its next task waits for room in the window, the journal should not
// count that task as sent: a resume sends it, and every task gets its result.
TEST_F(MasterTest, ResumeSendsTheTaskThatWasWaitingForTheWindow) {
  const auto state = temp_file();
  auto o = options();
  o.state_file = state;
  o.window = 5;
  std::map<std::string, int> seen;
  auto first = run_until_sent(o, 5, [&](const TaskResult& r) { ++seen[r.id]; }, 12);
  // (The sixth task waits for room, which no result makes: there is no agent yet.)
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(broker_.state("tasks")->sent, 5);
  start_agent();
  o.timeout = 20s;
  auto report = Master(broker_, o).run(echo_supply(12), [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_FALSE(report->timed_out) << "missing: " << (report->missing.empty() ? "" : report->missing[0]);
  EXPECT_EQ(report->succeeded, 12u);
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_EQ(broker_.state("tasks")->sent, 12);
}

TEST_F(MasterTest, StateFileOfAnotherRunIsRefused) {
  const auto state = temp_file();
  auto o = options();
  o.state_file = state;
  o.run_id = "first";
  o.timeout = 100ms;
  ASSERT_TRUE(Master(broker_, o).run(echo_supply(1), [](const TaskResult&) {}).ok());
  o.run_id = "second";
  auto report = Master(broker_, o).run(echo_supply(1), [](const TaskResult&) {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message, "state file " + state + " belongs to run first, not second");
}

// The window bounds how many tasks are out at once (sent, not yet answered), so the master's
// memory does not grow with the supply.
TEST_F(MasterTest, WindowBoundsTasksInFlight) {
  start_agent(2);
  auto o = options();
  o.window = 5;
  Master master(broker_, o);
  auto tasks = broker_.state("tasks");
  int answered = 0;
  int most_unanswered = 0;
  auto report = master.run(echo_supply(60), [&](const TaskResult&) {
    int sent = 0;
    {
      std::lock_guard lock(tasks->mutex);
      sent = tasks->sent;
    }
    // This result is not yet counted as answered: the master frees its place after the handler.
    most_unanswered = std::max(most_unanswered, sent - answered);
    ++answered;
  });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->succeeded, 60u);
  EXPECT_LE(most_unanswered, 5);
  EXPECT_GE(most_unanswered, 1);
}

// A task the queue refuses for good (too large, characters SQS refuses) is answered as failed
// at once, journaled like any result, so the run ends and a resumed run does not wait for it.
TEST_F(MasterTest, TaskTheQueueRefusesIsAnsweredAsFailedAndJournaled) {
  start_agent();
  broker_.state("tasks")->refused_marker = "\"t2\"";
  auto o = options();
  o.state_file = temp_file();
  std::map<std::string, TaskResult> seen;
  auto report = Master(broker_, o).run(echo_supply(3), [&](const TaskResult& r) { seen[r.id] = r; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_FALSE(seen["t2"].is_success);
  EXPECT_EQ(seen["t2"].payload, "not submitted: body refused by the queue");
  // Started again on the journal: everything is replayed, nothing waited for.
  o.timeout = 2s;
  std::map<std::string, int> replayed;
  report = Master(broker_, o).run(echo_supply(3), [&](const TaskResult& r) { ++replayed[r.id]; });
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->timed_out);
  EXPECT_EQ(replayed.size(), 3u);
}

TEST_F(MasterTest, TimeoutReportsWhatIsMissing) {
  auto o = options();
  o.timeout = 1s;  // long enough for the supply thread to send all three on a loaded machine
  Master master(broker_, o);
  auto report = master.run(echo_supply(3), [](const TaskResult&) {});
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->timed_out);
  EXPECT_EQ(report->missing, (std::vector<std::string>{"t1", "t2", "t3"}));
}

// Given a supply that blocks in a read after its first task (a pipe that has gone quiet), the run
// should end at its timeout, leaving the supply behind, rather than wait for the supply's next
// task. (The supply is let go after 10 s, so a run that waits for it ends too, late.)
TEST_F(MasterTest, TimeoutEndsTheRunWhileTheSupplyIsBlocked) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  auto first = echo_supply(1);
  Supply blocking = [released, first]() -> std::optional<Expected<Task>> {
    if (auto task = first()) return task;
    while (!released->load()) std::this_thread::sleep_for(5ms);
    return std::nullopt;
  };
  std::thread release([released] {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!released->load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(5ms);
    released->store(true);
  });
  auto o = options();
  o.timeout = 1s;
  Master master(broker_, o);
  const auto start = std::chrono::steady_clock::now();
  auto report = master.run(blocking, [](const TaskResult&) {});
  const auto took = std::chrono::steady_clock::now() - start;
  released->store(true);
  release.join();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->timed_out);
  EXPECT_EQ(report->missing, (std::vector<std::string>{"t1"}));
  EXPECT_LT(took, 5s) << "the run waited for the blocked supply";
}

TEST_F(MasterTest, BadSupplyEntriesAreCountedAndTheRunGoesOn) {
  start_agent();
  auto inner = echo_supply(3);
  bool bad_given = false;
  Supply supply = [&]() -> std::optional<Expected<Task>> {
    if (!bad_given) {
      bad_given = true;
      return Expected<Task>(Error::invalid("task line 1: \"id\": is empty"));
    }
    return inner();
  };
  Master master(broker_, options());
  int results = 0;
  auto report = master.run(supply, [&](const TaskResult&) { ++results; });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->invalid, 1u);
  EXPECT_EQ(results, 3);
}

TEST_F(MasterTest, SubmitOnlySendsAndReturns) {
  auto o = options();
  o.submit_only = true;
  Master master(broker_, o);
  auto report = master.run(echo_supply(25), [](const TaskResult&) { FAIL(); });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->submitted, 25u);
  EXPECT_EQ(broker_.state("tasks")->sent, 25);
}

// Given a signing key, every task message should carry a signature of its exact body that the
// same key verifies and another key does not; the body is the same as without a key.
TEST_F(MasterTest, WithASigningKeyEveryTaskMessageIsSigned) {
  auto key = SigningKey::from_text("the master's key, sixteen bytes+");
  auto other = SigningKey::from_text("not the master's key, sixteen+");
  ASSERT_TRUE(key.ok() && other.ok());
  auto o = options();
  o.submit_only = true;
  o.run_id = "signed-run";
  o.signing_key = *key;
  Master master(broker_, o);
  ASSERT_TRUE(master.run(echo_supply(12), [](const TaskResult&) { FAIL(); }).ok());

  auto state = broker_.state("tasks");
  std::lock_guard lock(state->mutex);
  ASSERT_EQ(state->messages.size(), 12u);
  for (const auto& [id, stored] : state->messages) {
    Message message{std::to_string(id), "r", stored.body, 1, stored.attributes};
    EXPECT_TRUE(key->verify(message).ok()) << stored.body;
    EXPECT_FALSE(other->verify(message).ok()) << stored.body;
    auto task = parse_task(stored.body);
    ASSERT_TRUE(task.ok());
    EXPECT_EQ(to_json(*task), stored.body) << "the body is the plain task JSON";
  }
}

// Given a master with a signing key, only results signed with it are reduced: an unsigned forged
// result and one signed with another key, each arriving before the genuine one, are dropped,
// counted and deleted, and the genuine result answers its task.
TEST_F(MasterTest, WithASigningKeyOnlySignedResultsAreReduced) {
  auto key = SigningKey::from_text("the master's key, sixteen bytes+");
  auto other = SigningKey::from_text("not the master's key, sixteen+");
  ASSERT_TRUE(key.ok() && other.ok());
  constexpr int kTasks = 5;
  std::thread agent([&] {
    auto tasks = std::move(*broker_.open_queue("tasks"));
    auto results = std::move(*broker_.open_queue("results"));
    int answered = 0;
    while (answered < kTasks) {
      auto got = tasks->receive(10, 100ms);
      ASSERT_TRUE(got.ok());
      for (const auto& m : *got) {
        auto task = parse_task(m.body);
        ASSERT_TRUE(task.ok());
        TaskResult forged = TaskResult::success(task->id, "forged");
        forged.run_id = task->run_id;
        TaskResult genuine = TaskResult::success(task->id, "1");
        genuine.run_id = task->run_id;
        ASSERT_TRUE(results
                        ->send({OutgoingMessage(to_json(forged)), other->signed_message(to_json(forged)),
                                key->signed_message(to_json(genuine))})
                        .ok());
        ASSERT_TRUE(tasks->ack({m.receipt}).ok());
        ++answered;
      }
    }
  });
  auto o = options();
  o.signing_key = *key;
  Master master(broker_, o);
  std::map<std::string, std::string> seen;
  auto report = master.run(echo_supply(kTasks), [&](const TaskResult& r) { seen[r.id] += r.payload; });
  agent.join();
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kTasks));
  for (const auto& [id, payload] : seen) EXPECT_EQ(payload, "1") << id << " reduced a forged result";
  EXPECT_EQ(report->unauthenticated, 2u * kTasks);
  EXPECT_TRUE(broker_.bodies("results").empty()) << "forged results were left in the queue";
}

// Given no key, task messages carry no attributes at all.
// Given two masters on one results queue, one with a signing key and one without, the keyed one
// leaves the other run's (unsigned) results in the queue for their master: it drops and deletes
// only messages of its own run (it used to delete them, and the other master waited for ever).
TEST_F(MasterTest, AMasterWithAKeyLeavesOtherRunsUnsignedResults) {
  auto key = SigningKey::from_text("the master's key, sixteen bytes+");
  ASSERT_TRUE(key.ok());
  auto results = std::move(*broker_.open_queue("results"));
  TaskResult others = TaskResult::success("theirs", "1");
  others.run_id = "run-a";
  ASSERT_TRUE(results->send({OutgoingMessage(to_json(others))}).ok());
  TaskResult forged = TaskResult::success("task-0", "forged");
  forged.run_id = "run-b";
  ASSERT_TRUE(results->send({OutgoingMessage(to_json(forged))}).ok());
  auto o = options();
  o.run_id = "run-b";
  o.signing_key = *key;
  o.timeout = 1500ms;
  Master master(broker_, o);
  auto report = master.run(echo_supply(1), [](const TaskResult&) {});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->unauthenticated, 1u) << "its own run's forged result is dropped";
  EXPECT_GE(report->foreign, 1u);
  const auto left = broker_.bodies("results");
  ASSERT_EQ(std::count_if(left.begin(), left.end(),
                          [](const std::string& b) { return b.find("\"theirs\"") != std::string::npos; }),
            1) << "run-a's result was deleted";
  EXPECT_EQ(std::count_if(left.begin(), left.end(),
                          [](const std::string& b) { return b.find("forged") != std::string::npos; }),
            0) << "the forged result of run-b was left";
}

// The tasks queue as the results queue: the master would take its tasks for results and delete
// them; refused at the start.
TEST_F(MasterTest, TheTasksQueueAsTheResultsQueueIsRefused) {
  auto o = options();
  o.results_queue = o.tasks_queue;
  o.timeout = 2s;  // the old code waited for its own tasks' results
  auto report = Master(broker_, o).run(echo_supply(1), [](const TaskResult&) {});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message,
            "the tasks queue and the results queue are both 'tasks': the master would take its own "
            "tasks for results and delete them; give the results another queue");
  EXPECT_TRUE(broker_.bodies("tasks").empty()) << "nothing sent";
}

// A detached run's results, collected later by another process: every result of the run is
// handed over once and only then deleted; results of other runs stay. It used to drop and delete
// them all as "no task of this run is waiting for it".
TEST_F(MasterTest, ACollectingRunHandsOverEveryResultOfItsRunThenDeletesIt) {
  auto results = std::move(*broker_.open_queue("results"));
  for (const char* id : {"c1", "c2", "c3"}) {
    TaskResult r = TaskResult::success(id, "1");
    r.run_id = "detached";
    ASSERT_TRUE(results->send({OutgoingMessage(to_json(r))}).ok());
  }
  TaskResult other = TaskResult::success("c1", "other run");
  other.run_id = "someone-else";
  ASSERT_TRUE(results->send({OutgoingMessage(to_json(other))}).ok());
  auto o = options();
  o.run_id = "detached";
  o.collect = true;
  o.poll_wait = 100ms;
  o.timeout = 30s;
  std::map<std::string, int> seen;
  auto report = Master(broker_, o).run([]() -> std::optional<Expected<Task>> { return std::nullopt; },
                                       [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_FALSE(report->timed_out) << "it ends once the queue holds no more of its results";
  EXPECT_EQ(seen, (std::map<std::string, int>{{"c1", 1}, {"c2", 1}, {"c3", 1}}));
  const auto left = broker_.bodies("results");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].find("someone-else"), std::string::npos);
}

// A collecting run that also sends tasks hands over its own tasks' results and any other result
// of its run nobody was handed, never deleting one unseen.
TEST_F(MasterTest, AResultOfTheRunNobodyWasHandedIsNotDeletedUnseen) {
  auto results = std::move(*broker_.open_queue("results"));
  TaskResult stray = TaskResult::success("from-before", "1");
  stray.run_id = "run-x";
  ASSERT_TRUE(results->send({OutgoingMessage(to_json(stray))}).ok());
  start_agent(1);
  auto o = options();
  o.run_id = "run-x";
  o.collect = true;
  o.poll_wait = 100ms;
  std::map<std::string, int> seen;
  auto report = Master(broker_, o).run(echo_supply(3), [&](const TaskResult& r) { ++seen[r.id]; });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(seen["t1"] + seen["t2"] + seen["t3"], 3);
  // Either handed over (received before the run ended) or left in the queue: never deleted unseen.
  const auto left = broker_.bodies("results");
  const bool kept = std::any_of(left.begin(), left.end(), [](const std::string& b) {
    return b.find("from-before") != std::string::npos;
  });
  EXPECT_EQ(seen["from-before"], 1) << "the stray result was not handed over";
  EXPECT_FALSE(kept);
  EXPECT_EQ(report->duplicates, 0u);
}

TEST_F(MasterTest, WithoutASigningKeyTasksCarryNoAttributes) {
  auto o = options();
  o.submit_only = true;
  Master master(broker_, o);
  ASSERT_TRUE(master.run(echo_supply(3), [](const TaskResult&) { FAIL(); }).ok());
  auto state = broker_.state("tasks");
  std::lock_guard lock(state->mutex);
  for (const auto& [id, stored] : state->messages) EXPECT_TRUE(stored.attributes.empty());
}

}  // namespace
}  // namespace tasker
