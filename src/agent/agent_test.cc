#include "tasker/agent.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "testing/fake_queue.h"
#include "testing/fake_runtime.h"
#include "tasker/result.h"

namespace tasker {
namespace {

using testing::FakeBroker;
using testing::FakeRuntime;
using namespace std::chrono_literals;

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.create_queue("tasks", {}).ok());
    ASSERT_TRUE(broker_.create_queue("results", {}).ok());
  }

  AgentOptions options() {
    AgentOptions o;
    o.name = "test-agent";
    o.slots = 2;
    o.results_queue = "results";
    o.poll_wait = 50ms;
    o.exit_when_idle = true;
    return o;
  }

  void submit(const OutgoingMessage& message) {
    auto queue = broker_.open_queue("tasks");
    ASSERT_TRUE(queue.ok());
    ASSERT_TRUE((*queue)->send({message}).ok());
  }

  std::unique_ptr<Agent> make_agent(AgentOptions o) {
    auto queue = broker_.open_queue("tasks");
    EXPECT_TRUE(queue.ok());
    return std::make_unique<Agent>(broker_, std::move(*queue), runtime_, std::move(o));
  }

  std::map<std::string, TaskResult> results() {
    std::map<std::string, TaskResult> out;
    for (const auto& body : broker_.bodies("results")) {
      auto result = parse_result(body);
      EXPECT_TRUE(result.ok()) << body;
      if (result.ok()) {
        EXPECT_FALSE(out.count(result->id)) << "duplicate result for " << result->id;
        out[result->id] = *result;
      }
    }
    return out;
  }

  FakeBroker broker_;
  FakeRuntime runtime_;
};

// Given three tasks, we should get three results and an empty task queue.
TEST_F(AgentTest, AnswersEveryTaskThenDeletesIt) {
  for (int i = 1; i <= 3; ++i) {
    submit(R"({"id":"t)" + std::to_string(i) + R"(","image":"busybox","arguments":"sleep 10 )" +
           std::to_string(i) + R"(","runId":"run-1"})");
  }
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  auto got = results();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got["t2"].payload, "2");
  EXPECT_TRUE(got["t2"].is_success);
  EXPECT_EQ(got["t2"].agent, "test-agent");
  EXPECT_EQ(got["t2"].attempt, 1);
  EXPECT_EQ(got["t2"].run_id, "run-1");
  EXPECT_TRUE(broker_.bodies("tasks").empty());
  EXPECT_EQ(agent->stats().succeeded, 3u);
}

// Given a task longer than the visibility timeout and a second agent polling the same queue, the
// heartbeat should keep the message hidden so the task runs exactly once.
TEST_F(AgentTest, LongTaskOutlivesVisibilityAndRunsOnce) {
  submit(R"({"id":"long","image":"busybox","arguments":"sleep 2500 done"})");
  auto o = options();
  o.visibility = 1s;
  auto first = make_agent(o);
  auto second = make_agent(o);
  std::thread other([&] { ASSERT_TRUE(second->run().ok()); });
  ASSERT_TRUE(first->run().ok());
  other.join();
  EXPECT_EQ(runtime_.runs("long"), 1);
  EXPECT_GE(broker_.state("tasks")->extends, 2);
  EXPECT_EQ(results().size(), 1u);
}

TEST_F(AgentTest, ResultGoesToTheTasksReplyQueue) {
  ASSERT_TRUE(broker_.create_queue("mine", {}).ok());
  submit(R"({"id":"r","image":"busybox","arguments":"echo x","replyQueue":"mine"})");
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  EXPECT_TRUE(broker_.bodies("results").empty());
  ASSERT_EQ(broker_.bodies("mine").size(), 1u);
}

// Poison: not JSON, not a task, over its attempts. Each is answered when its id can be read,
// and deleted; none loops.
TEST_F(AgentTest, PoisonMessagesAreAnsweredAndDeleted) {
  submit("this is not json");
  submit(R"({"id":"bad-args","image":"busybox","arguments":"sh -c 'oops"})");
  submit(R"({"id":"tired","image":"busybox","arguments":"echo x","maxAttempts":1})");
  // Make "tired" look delivered before: take it once and let it come back.
  {
    auto queue = broker_.open_queue("tasks");
    auto taken = (*queue)->receive(10, 0ms, 0s);
    ASSERT_TRUE(taken.ok());
  }
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  auto got = results();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got["bad-args"].is_success);
  EXPECT_EQ(got["bad-args"].error, "invalid-task");
  EXPECT_EQ(got["bad-args"].payload, "invalid task: \"arguments\": unbalanced single quote");
  EXPECT_FALSE(got["tired"].is_success);
  EXPECT_EQ(got["tired"].error, "attempts");
  EXPECT_EQ(runtime_.runs("tired"), 0);
  EXPECT_TRUE(broker_.bodies("tasks").empty());
  EXPECT_EQ(agent->stats().poison, 3u);
}

// Given a policy, a task asking for more is answered as failed with error "policy" without
// reaching the runtime, deleted, never retried; an allowed task beside it runs.
TEST_F(AgentTest, TasksThePolicyRefusesAreAnsweredWithoutRunning) {
  submit(R"({"id":"evil","image":"evil/x:1","arguments":"echo x","runId":"r"})");
  submit(R"({"id":"hostnet","image":"busybox","arguments":"echo x","network":"host"})");
  submit(R"({"id":"big","image":"busybox","arguments":"echo x","memory":"4g"})");
  submit(R"({"id":"fine","image":"busybox:latest","arguments":"echo fine"})");
  auto o = options();
  o.policy.allowed_images = {"busybox"};
  o.policy.max_memory_bytes = std::int64_t{1} << 30;
  auto agent = make_agent(o);
  ASSERT_TRUE(agent->run().ok());
  auto got = results();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_FALSE(got["evil"].is_success);
  EXPECT_EQ(got["evil"].error, "policy");
  EXPECT_EQ(got["evil"].payload,
            R"(refused: "image": "evil/x:1" is not allowed on this agent (--allow-image))");
  EXPECT_EQ(got["evil"].run_id, "r");
  EXPECT_EQ(got["hostnet"].error, "policy");
  EXPECT_EQ(got["big"].payload, R"(refused: "memory": 4 GiB is over this agent's cap of 1 GiB (--max-memory))");
  EXPECT_TRUE(got["fine"].is_success);
  for (const char* id : {"evil", "hostnet", "big"}) EXPECT_EQ(runtime_.runs(id), 0) << id;
  EXPECT_TRUE(broker_.bodies("tasks").empty());
  EXPECT_EQ(agent->stats().refused, 3u);
  EXPECT_EQ(agent->stats().failed, 3u);
  EXPECT_EQ(agent->stats().poison, 0u);
}

// Given an agent with a signing key, only the task signed with that key runs; unsigned, malformed,
// foreign-key and altered tasks are answered "unauthenticated" unparsed (even one that is not
// valid JSON of a task, and one that the policy would refuse), to the agent's results queue
// whatever reply queue the body names, and deleted.
TEST_F(AgentTest, WithAKeyOnlyTasksSignedWithItRun) {
  auto key = SigningKey::from_text("the agent's key, sixteen bytes+");
  auto other = SigningKey::from_text("another key, also sixteen bytes");
  ASSERT_TRUE(key.ok() && other.ok());
  ASSERT_TRUE(broker_.create_queue("elsewhere", {}).ok());
  const std::string signed_body = R"({"id":"good","image":"busybox","arguments":"echo ok"})";
  submit(key->signed_message(signed_body));
  submit(R"({"id":"unsigned","image":"busybox","arguments":"echo x","replyQueue":"elsewhere"})");
  submit(OutgoingMessage(R"({"id":"malformed","image":"busybox","arguments":"echo x"})",
                         {{kSignatureAttribute, "v1=nothex"}}));
  submit(other->signed_message(R"({"id":"foreign","image":"evil/x:1","arguments":"echo x"})"));
  // A genuine signature on an altered body.
  const std::string altered = R"({"id":"altered","image":"busybox","arguments":"echo pwned"})";
  submit(OutgoingMessage(altered, {{kSignatureAttribute, key->sign(R"({"id":"altered","image":"busybox","arguments":"echo ok"})")}}));
  submit(OutgoingMessage(R"({"id":"not-a-task"})", {{kSignatureAttribute, other->sign("x")}}));

  auto o = options();
  o.signing_key = *key;
  o.policy.allowed_images = {"busybox"};
  auto agent = make_agent(o);
  ASSERT_TRUE(agent->run().ok());
  auto got = results();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_TRUE(got["good"].is_success);
  EXPECT_EQ(runtime_.runs("good"), 1);
  EXPECT_EQ(got["unsigned"].payload,
            "task not run: missing signature (a signing key is set, so messages must be signed)");
  EXPECT_NE(got["malformed"].payload.find("task not run: malformed signature"), std::string::npos)
      << got["malformed"].payload;
  for (const char* id : {"foreign", "altered", "not-a-task"}) {
    EXPECT_EQ(got[id].payload, "task not run: signature does not match the body") << id;
  }
  for (const char* id : {"unsigned", "malformed", "foreign", "altered", "not-a-task"}) {
    EXPECT_FALSE(got[id].is_success) << id;
    EXPECT_EQ(got[id].error, "unauthenticated") << id;
    EXPECT_EQ(runtime_.runs(id), 0) << id;
  }
  EXPECT_TRUE(broker_.bodies("elsewhere").empty()) << "an unauthenticated body chose the reply queue";
  EXPECT_TRUE(broker_.bodies("tasks").empty());
  // The result of the task that ran is signed with the agent's key, for the master to check; the
  // answers to unauthenticated messages are not, so a keyed master never reduces them.
  {
    auto state = broker_.state("results");
    std::lock_guard lock(state->mutex);
    ASSERT_EQ(state->messages.size(), 6u);
    for (const auto& [id, stored] : state->messages) {
      Message message{std::to_string(id), "r", stored.body, 1, stored.attributes};
      const bool ran = parse_result(stored.body)->id == "good";
      EXPECT_EQ(key->verify(message).ok(), ran) << stored.body;
      EXPECT_FALSE(other->verify(message).ok()) << stored.body;
    }
  }
  EXPECT_EQ(agent->stats().unauthenticated, 5u);
  EXPECT_EQ(agent->stats().failed, 5u);
  EXPECT_EQ(agent->stats().refused, 0u);
  EXPECT_EQ(agent->stats().poison, 0u);
}

// Given an agent without a key, signatures are ignored: signed and unsigned tasks both run.
TEST_F(AgentTest, WithoutAKeySignaturesAreIgnored) {
  submit(OutgoingMessage(R"({"id":"signed","image":"busybox","arguments":"echo x"})",
                         {{kSignatureAttribute, "v1=whatever"}}));
  submit(R"({"id":"plain","image":"busybox","arguments":"echo x"})");
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  auto got = results();
  EXPECT_TRUE(got["signed"].is_success);
  EXPECT_TRUE(got["plain"].is_success);
  EXPECT_EQ(agent->stats().unauthenticated, 0u);
}

// Given a results queue that refuses the first sends, the result should still arrive, and the
// task message stays until it does.
TEST_F(AgentTest, FailedResultSendIsRetriedBeforeTheTaskIsDeleted) {
  broker_.state("results")->failing_sends = 2;
  submit(R"({"id":"t","image":"busybox","arguments":"echo ok"})");
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  EXPECT_EQ(results().size(), 1u);
  EXPECT_TRUE(broker_.bodies("tasks").empty());
  EXPECT_GE(agent->stats().queue_errors, 2u);
}

// A result over the message limit once escaped (70,000 NUL bytes are 420,000 bytes of JSON) is
// cut to fit and says so; the results sent with it are not held up, and nothing is retried.
TEST_F(AgentTest, OversizeResultIsTruncatedToFitAndOthersStillGo) {
  runtime_.behaviour = [](const Task& task) -> std::optional<RunOutcome> {
    if (task.id != "big") return std::nullopt;
    return RunOutcome{TaskResult::success("big", std::string(70000, '\0')), false};
  };
  submit(R"({"id":"big","image":"busybox","arguments":"zeros"})");
  for (int i = 0; i < 5; ++i) {
    submit(R"({"id":"small-)" + std::to_string(i) + R"(","image":"busybox","arguments":"echo ok"})");
  }
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  auto got = results();
  ASSERT_EQ(got.size(), 6u);
  const TaskResult& big = got["big"];
  EXPECT_TRUE(big.is_success);
  EXPECT_EQ(big.truncated, true);
  EXPECT_GT(big.payload.size(), 40000u);
  EXPECT_LT(big.payload.size(), 70000u);
  EXPECT_EQ(big.payload, std::string(big.payload.size(), '\0'));
  for (const auto& body : broker_.bodies("results")) EXPECT_LE(body.size(), kMaxBodyBytes);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(got["small-" + std::to_string(i)].is_success);
    EXPECT_FALSE(got["small-" + std::to_string(i)].truncated.has_value());
  }
  EXPECT_TRUE(broker_.bodies("tasks").empty());
  EXPECT_EQ(agent->stats().queue_errors, 0u) << "batched by size: no call refused";
}

// A payload cut to fit never ends in part of a UTF-8 character.
TEST_F(AgentTest, TruncationKeepsWholeUtf8Characters) {
  runtime_.behaviour = [](const Task& task) -> std::optional<RunOutcome> {
    std::string euros;
    for (int i = 0; i < 100000; ++i) euros += "\xe2\x82\xac";  // U+20AC, 3 bytes
    return RunOutcome{TaskResult::success(task.id, euros), false};
  };
  submit(R"({"id":"euros","image":"busybox","arguments":"x"})");
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  const TaskResult r = results()["euros"];
  EXPECT_EQ(r.truncated, true);
  EXPECT_EQ(r.payload.size() % 3, 0u);
  EXPECT_EQ(r.payload.find("\xef\xbf\xbd"), std::string::npos) << "no replacement character";
}

// A batch the queue refuses as a whole (a non-transient error for the call) is sent again one
// result per call, so each result is sent, or refused, on its own.
TEST_F(AgentTest, ABatchRefusedAsAWholeIsSentOneByOne) {
  broker_.state("results")->failing_sends = 1;
  broker_.state("results")->injected_error = Error::invalid("batch refused");
  for (int i = 0; i < 4; ++i) {
    submit(R"({"id":"t)" + std::to_string(i) + R"(","image":"busybox","arguments":"echo ok"})");
  }
  AgentOptions o = options();
  o.slots = 4;
  o.publish_linger = 200ms;
  auto agent = make_agent(o);
  ASSERT_TRUE(agent->run().ok());
  auto got = results();
  ASSERT_EQ(got.size(), 4u);
  for (const auto& [id, r] : got) EXPECT_TRUE(r.is_success) << id << ": " << r.payload;
  EXPECT_TRUE(broker_.bodies("tasks").empty());
}

// Given a results queue whose disk is full, the agent should stop by itself and say why, leaving
// the task in the queue for later rather than retrying without end or dropping it.
TEST_F(AgentTest, FullDiskStopsTheAgentAndKeepsTheTask) {
  broker_.state("results")->failing_sends = 1000;
  broker_.state("results")->injected_error = Error::no_space("sqlite:results.db: database or disk is full");
  submit(R"({"id":"t","image":"busybox","arguments":"echo ok"})");
  auto o = options();
  o.exit_when_idle = false;
  auto agent = make_agent(o);
  const auto started = std::chrono::steady_clock::now();
  auto status = agent->run();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kNoSpace);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "waited out the publisher's drain";
  EXPECT_TRUE(results().empty());
  EXPECT_EQ(broker_.bodies("tasks").size(), 1u);
}

TEST_F(AgentTest, ReceiveFailuresAreRetried) {
  broker_.state("tasks")->failing_receives = 2;
  submit(R"({"id":"t","image":"busybox","arguments":"echo ok"})");
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  EXPECT_EQ(results().size(), 1u);
}

// Given a tasks queue at SQS's in-flight limit for a while (OverLimit on receive), the agent
// should back off and go on, and run the task once the limit has passed.
TEST_F(AgentTest, TasksQueueAtTheInFlightLimitIsWaitedOut) {
  broker_.state("tasks")->failing_receives = 2;
  broker_.state("tasks")->injected_error = testing::sqs_receive_over_limit();
  submit(R"({"id":"t","image":"busybox","arguments":"echo ok"})");
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  EXPECT_EQ(results().size(), 1u);
  EXPECT_EQ(agent->stats().queue_errors, 2u);
}

// Given a stop request while a task runs, the agent should let it finish within the grace
// period, answer it, and take nothing more.
TEST_F(AgentTest, StopDrainsRunningTasks) {
  submit(R"({"id":"running","image":"busybox","arguments":"sleep 400 ok"})");
  auto o = options();
  o.exit_when_idle = false;
  o.slots = 1;
  o.grace = 10s;
  auto agent = make_agent(o);
  std::thread stopper([&] {
    while (runtime_.running() == 0) std::this_thread::sleep_for(5ms);
    submit(R"({"id":"later","image":"busybox","arguments":"echo x"})");
    agent->request_stop();
  });
  ASSERT_TRUE(agent->run().ok());
  stopper.join();
  auto got = results();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got["running"].is_success);
  EXPECT_EQ(runtime_.runs("later"), 0);
  EXPECT_EQ(broker_.bodies("tasks").size(), 1u);  // "later" is still there for another agent
}

// Given an idle agent in a long poll (20 s), a stop should end it at once, not when the poll
// would: an embedded run ends with its master, and a signalled agent is gone within a second
// (BENCHMARKS.md has the figures; the bound here is loose for a loaded machine).
TEST_F(AgentTest, StopCutsAnIdlePollShort) {
  auto o = options();
  o.exit_when_idle = false;
  o.poll_wait = 20s;
  auto agent = make_agent(o);
  std::chrono::steady_clock::time_point stopped_at;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);  // well inside the first poll
    stopped_at = std::chrono::steady_clock::now();
    agent->request_stop();
  });
  ASSERT_TRUE(agent->run().ok());
  const auto took = std::chrono::steady_clock::now() - stopped_at;
  stopper.join();
  EXPECT_LT(took, 5s) << "the stop waited for the receive poll to end";
}

// Given a task that outlasts the grace period, it should be killed and handed back at once:
// visible again, not answered.
TEST_F(AgentTest, GraceExpiryKillsAndHandsBack) {
  submit(R"({"id":"slow","image":"busybox","arguments":"sleep 30000 never"})");
  auto o = options();
  o.exit_when_idle = false;
  o.grace = 0s;
  auto agent = make_agent(o);
  std::thread stopper([&] {
    while (runtime_.running() == 0) std::this_thread::sleep_for(5ms);
    agent->request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(agent->run().ok());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(results().empty());
  EXPECT_EQ(agent->stats().released, 1u);
  auto depth = (*broker_.open_queue("tasks"))->depth();
  EXPECT_EQ(depth->visible, 1);
}

// Given a runtime that goes away, the task should be handed back (not answered as failed), the
// agent should wait for the runtime, then run the task.
TEST_F(AgentTest, RuntimeOutageHandsBackAndWaits) {
  std::atomic<int> calls{0};
  std::jthread comes_back;  // joined before the fixture it touches goes away
  runtime_.behaviour = [&](const Task& task) -> std::optional<RunOutcome> {
    if (calls++ == 0) {
      runtime_.ready = false;
      comes_back = std::jthread([&] {
        std::this_thread::sleep_for(300ms);
        runtime_.ready = true;
      });
      return RunOutcome{TaskResult::failure(task.id, "docker", "daemon unreachable"), true};
    }
    EXPECT_TRUE(runtime_.ready) << "a task ran while the runtime was down";
    return std::nullopt;
  };
  submit(R"({"id":"t","image":"busybox","arguments":"echo fine"})");
  auto agent = make_agent(options());
  ASSERT_TRUE(agent->run().ok());
  comes_back.join();
  auto got = results();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got["t"].is_success);
  // Handed back once by the failed run; a receive already waiting may take it again before the
  // agent pauses, and hand it back unrun. Every delivery but the last was a hand-back.
  const auto released = agent->stats().released;
  EXPECT_GE(released, 1u);
  EXPECT_LE(released, 2u);
  EXPECT_EQ(got["t"].attempt, static_cast<int>(released) + 1);
  EXPECT_EQ(runtime_.runs("t"), 2);
}

// Given an observer, the agent should tell it each message it takes, each answer with its result,
// each task the policy refuses, how many tasks run, and each failed queue call.
TEST_F(AgentTest, TellsItsObserverWhatItDoes) {
  struct Recorder : AgentObserver {
    void on_received() override { ++received; }
    void on_answered(const TaskResult& result) override {
      ++(result.is_success ? succeeded : failed);
      std::lock_guard lock(mutex);
      answered.push_back(result.id);
    }
    void on_refused() override { ++refused; }
    void on_unauthenticated() override { ++unauthenticated; }
    void on_running(std::uint64_t now) override {
      running = now;
      if (now > most_running) most_running = now;
    }
    void on_queue_error(const Error& error) override { ++queue_errors; }
    std::atomic<int> received{0}, succeeded{0}, failed{0}, refused{0}, unauthenticated{0},
        queue_errors{0};
    std::atomic<std::uint64_t> running{0}, most_running{0};
    std::mutex mutex;
    std::vector<std::string> answered;
  };
  broker_.state("results")->failing_sends = 1;
  submit(R"({"id":"fine","image":"busybox","arguments":"echo ok"})");
  submit(R"({"id":"evil","image":"evil/x:1","arguments":"echo x"})");
  submit("this is not json");
  auto o = options();
  o.slots = 1;
  o.policy.allowed_images = {"busybox"};
  Recorder recorder;
  auto queue = broker_.open_queue("tasks");
  ASSERT_TRUE(queue.ok());
  Agent agent(broker_, std::move(*queue), runtime_, o, &recorder);
  ASSERT_TRUE(agent.run().ok());
  EXPECT_EQ(results().size(), 2u);
  EXPECT_EQ(recorder.received, 3);
  EXPECT_EQ(recorder.succeeded, 1);
  EXPECT_EQ(recorder.failed, 1);  // "evil"; the message without an id is deleted unanswered
  std::sort(recorder.answered.begin(), recorder.answered.end());
  EXPECT_EQ(recorder.answered, (std::vector<std::string>{"evil", "fine"}));
  EXPECT_EQ(recorder.refused, 1);
  EXPECT_EQ(recorder.unauthenticated, 0);
  EXPECT_EQ(recorder.most_running, 1u);
  EXPECT_EQ(recorder.running, 0u);
  EXPECT_EQ(recorder.queue_errors, 1);  // the failed send, retried
  EXPECT_EQ(static_cast<std::uint64_t>(recorder.queue_errors), agent.stats().queue_errors);
}

TEST_F(AgentTest, RefusesToStartWithoutAResultsQueue) {
  auto o = options();
  o.results_queue.clear();
  auto status = make_agent(o)->run();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "no results queue given (Q_RESULTS or --results)");
}

}  // namespace
}  // namespace tasker
