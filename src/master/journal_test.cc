#include "master/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace tasker {
namespace {
namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("tasker-journal-test-" + std::to_string(::getpid()))).string();
    fs::remove(path_);
  }
  void TearDown() override { fs::remove(path_); }

  Journal::Identity identity(std::string input = "/data/tasks.jsonl", std::string broker = "sqlite:/q.db") {
    return {"", "tasks", "results", std::move(input), std::move(broker)};
  }

  Expected<std::unique_ptr<Journal>> open(const Journal::Identity& id) {
    results_.clear();
    return Journal::open(path_, id, "fresh-run", [this](const TaskResult& r) { results_.push_back(r.id); },
                         recovered_);
  }

  std::string text() {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }
  void write(const std::string& text) { std::ofstream(path_, std::ios::binary | std::ios::trunc) << text; }

  std::string path_;
  std::vector<std::string> results_;
  Journal::Recovered recovered_;
};

TEST_F(JournalTest, RecordsWhatItIsARunOfAndTheDigestOfWhatWasSent) {
  {
    auto journal = open(identity());
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    ASSERT_TRUE((*journal)->record_submitted(3, 12345).ok());
    ASSERT_TRUE((*journal)->record_result(TaskResult::success("a", "1")).ok());
    ASSERT_TRUE((*journal)->sync().ok());
  }
  EXPECT_NE(text().find(R"("input":"/data/tasks.jsonl")"), std::string::npos) << text();
  EXPECT_NE(text().find(R"("broker":"sqlite:/q.db")"), std::string::npos) << text();
  EXPECT_NE(text().find(R"("version":2)"), std::string::npos) << text();
  auto again = open(identity());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(recovered_.run_id, "fresh-run");
  EXPECT_EQ(recovered_.submitted, 3u);
  EXPECT_EQ(recovered_.digest, 12345u);
  EXPECT_FALSE(recovered_.repaired);
  EXPECT_EQ(results_, std::vector<std::string>{"a"});
}

TEST_F(JournalTest, AnotherInputOrBrokerIsRefusedNamingBoth) {
  { ASSERT_TRUE(open(identity()).ok()); }
  auto other_input = open(identity("/data/one.jsonl"));
  ASSERT_FALSE(other_input.ok());
  EXPECT_EQ(other_input.error().message,
            "state file " + path_ + " is run fresh-run of '/data/tasks.jsonl', not of '/data/one.jsonl': "
            "resume it with the same input, discard it (tasker run --fresh, or delete the state file), "
            "or use another --state-dir / --state");
  auto stdin_input = open(identity("-"));
  ASSERT_FALSE(stdin_input.ok());
  EXPECT_NE(stdin_input.error().message.find("not of standard input"), std::string::npos);
  auto other_broker = open(identity("/data/tasks.jsonl", "sqs"));
  ASSERT_FALSE(other_broker.ok());
  EXPECT_EQ(other_broker.error().message,
            "state file " + path_ + " belongs to run fresh-run on broker sqlite:/q.db, not sqs: resume "
            "it on the same broker, or use another state file");
  // Unknown on either side (an API user who names neither): not refused.
  EXPECT_TRUE(open(identity("", "")).ok());
}

// A crash mid-write leaves a cut last record: it is found, reported, cut off, and the next record
// starts on a line of its own (it used to be appended onto the cut one, losing both).
TEST_F(JournalTest, ACutLastRecordIsCutOffAndTheNextOneIsWhole) {
  {
    auto journal = open(identity());
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->record_submitted(3, 1).ok());
    ASSERT_TRUE((*journal)->record_result(TaskResult::success("a", "1")).ok());
  }
  const std::string whole = text();
  write(whole + R"({"result":{"id":"b","isSucc)");
  {
    auto journal = open(identity());
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    EXPECT_TRUE(recovered_.repaired);
    EXPECT_EQ(results_, std::vector<std::string>{"a"});
    EXPECT_EQ(text(), whole);
    ASSERT_TRUE((*journal)->record_result(TaskResult::success("c", "3")).ok());
  }
  auto again = open(identity());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(recovered_.repaired);
  EXPECT_EQ(results_, (std::vector<std::string>{"a", "c"}));
}

TEST_F(JournalTest, AWholeLastRecordWithoutItsNewlineIsKept) {
  {
    auto journal = open(identity());
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE((*journal)->record_result(TaskResult::success("a", "1")).ok());
  }
  std::string t = text();
  t.pop_back();
  write(t);
  {
    auto journal = open(identity());
    ASSERT_TRUE(journal.ok());
    EXPECT_FALSE(recovered_.repaired);
    ASSERT_TRUE((*journal)->record_result(TaskResult::success("b", "2")).ok());
  }
  ASSERT_TRUE(open(identity()).ok());
  EXPECT_EQ(results_, (std::vector<std::string>{"a", "b"}));
}

TEST_F(JournalTest, GarbageInsideIsSkippedAndAJournalOfAnOlderVersionStillResumes) {
  write("{\"run\":\"old\",\"tasks\":\"tasks\",\"results\":\"results\"}\n{\"submitted\":2}\n"
        "not a record\n{\"result\":{\"id\":\"a\",\"isSuccess\":true,\"payload\":\"1\"}}\n");
  auto journal = open(identity());
  ASSERT_TRUE(journal.ok()) << journal.error().message;
  EXPECT_EQ(recovered_.run_id, "old");
  EXPECT_EQ(recovered_.submitted, 2u);
  EXPECT_FALSE(recovered_.digest.has_value());
  EXPECT_EQ(results_, std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace tasker
