#include "master/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace tasker {
namespace {
namespace fs = std::filesystem;

TaskResult ran(std::string id, bool ok, std::int64_t start, std::int64_t duration,
               std::string agent = "node-a") {
  TaskResult r = ok ? TaskResult::success(std::move(id), "fine")
                    : TaskResult::failure(std::move(id), "exit", "exit code 3: boom");
  r.started_at_ms = 1'700'000'000'000 + start;
  r.duration_ms = duration;
  r.agent = std::move(agent);
  if (!ok) r.exit_code = 3;
  return r;
}

std::size_t count(const std::string& html, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<std::size_t>(
      std::distance(std::sregex_iterator(html.begin(), html.end(), re), std::sregex_iterator()));
}

// The y of the bar of task `id`: which lane it was put on.
std::string lane_of(const std::string& html, const std::string& id) {
  std::smatch m;
  const std::regex re("data-id=\"" + id + "\" x=\"[0-9.]+\" y=\"([0-9.]+)\"");
  return std::regex_search(html, m, re) ? m[1].str() : "none";
}

TEST(ReportTest, OneBarPerTaskOnTheLaneOfAFreeSlot) {
  ReportInput input;
  input.results = {ran("a", true, 0, 1000), ran("b", true, 500, 1000),  // overlap: two lanes
                   ran("c", false, 1200, 300),                           // a's lane is free again
                   ran("d", true, 0, 100, "node-b")};
  const std::string html = render_report(input);
  EXPECT_EQ(count(html, "<rect class=\"task ok\""), 3u);
  EXPECT_EQ(count(html, "<rect class=\"task failed\""), 1u);
  EXPECT_EQ(lane_of(html, "a"), lane_of(html, "c"));
  EXPECT_NE(lane_of(html, "a"), lane_of(html, "b"));
  EXPECT_NE(html.find(">node-a #2<"), std::string::npos);
  EXPECT_NE(html.find(">node-b #1<"), std::string::npos);
  EXPECT_EQ(html.find(">node-b #2<"), std::string::npos);
  EXPECT_NE(html.find("<span id=\"failed\">1 failed</span>"), std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"failure\" data-id=\"c\""), 1u);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "the page needs no script";
}

// A result is untrusted text: nothing in it becomes markup.
TEST(ReportTest, TextFromResultsIsEscaped) {
  ReportInput input;
  input.title = "run <b>x</b>";
  TaskResult r = ran("<img src=x onerror=alert(1)>", false, 0, 10, "\"><script>alert(2)</script>");
  r.payload = "</td></tr></table><script>alert(3)</script>";
  r.error = "<i>exit</i>";
  input.results = {r};
  const std::string html = render_report(input);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(3)"), std::string::npos);
}

TEST(ReportTest, ManyTasksAreDrawnPerAgentAndTimeSlice) {
  ReportInput input;
  for (int i = 0; i < 200; ++i) input.results.push_back(ran("t" + std::to_string(i), i % 50 != 0, i * 10, 25));
  ReportLimits limits;
  limits.max_task_bars = 100;
  limits.bins = 20;
  limits.max_failure_rows = 2;
  const std::string html = render_report(input, limits);
  EXPECT_EQ(count(html, "<rect class=\"task "), 0u);
  EXPECT_GT(count(html, "<rect class=\"bin (ok|failed)\""), 0u);
  EXPECT_LE(count(html, "<rect class=\"bin "), 20u) << "one agent, 20 slices";
  EXPECT_EQ(count(html, "<rect class=\"bin failed\""), 4u) << "t0, t50, t100, t150 in 4 slices";
  EXPECT_NE(html.find("data-mode=\"bins\""), std::string::npos);
  EXPECT_EQ(count(html, "<tr class=\"failure\""), 2u);
  EXPECT_NE(html.find("and 2 more failures"), std::string::npos);
}

TEST(ReportTest, ResultsWithoutStartTimesAreCountedNotPlaced) {
  ReportInput input;
  input.results = {TaskResult::success("python-agent", "1"), ran("tasker-agent", true, 0, 5)};
  const std::string html = render_report(input);
  EXPECT_EQ(count(html, "<rect class=\"task "), 1u);
  EXPECT_NE(html.find("1 task(s) carry no start time"), std::string::npos);
  EXPECT_NE(html.find("<span id=\"total\">2 tasks</span>"), std::string::npos);
}

// GNU parallel's --joblog columns, one line per task in the order the results came.
TEST(ReportTest, JoblogHasParallelsColumns) {
  ReportInput input;
  TaskResult ok = ran("ok", true, 1500, 2250, "node\ta");
  ok.payload = "12345";
  TaskResult failed = ran("bad", false, 0, 10);
  TaskResult killed = ran("slow", false, 0, 30000);
  killed.error = "timeout";
  killed.exit_code = 137;
  TaskResult refused = TaskResult::failure("refused", "policy", "refused: image not allowed");
  input.results = {ok, failed, killed, refused};
  EXPECT_EQ(render_joblog(input),
            "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"
            "1\tnode a\t1700000001.500\t2.250\t0\t5\t0\t0\tok\n"
            "2\tnode-a\t1700000000.000\t0.010\t0\t17\t3\t0\tbad\n"
            "3\tnode-a\t1700000000.000\t30.000\t0\t17\t0\t9\tslow\n"
            "4\t-\t0.000\t0.000\t0\t26\t255\t0\trefused\n");
}

TEST(ReportTest, StatusCountsRateAndEta) {
  ReportInput input;
  input.submitted = 10;
  // Four results ending 1 s apart, the last at t = 4 s.
  for (int i = 0; i < 4; ++i) input.results.push_back(ran("t" + std::to_string(i), i != 2, i * 1000, 1000));
  const std::int64_t last_end = 1'700'000'000'000 + 4000;
  const RunStatus s = run_status(input, last_end);
  EXPECT_EQ(s.submitted, 10u);
  EXPECT_EQ(s.succeeded, 3u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.waiting, 6u);
  EXPECT_DOUBLE_EQ(s.rate, 4.0 / 3.0) << "4 ends over the 3 s from the first to now";
  ASSERT_TRUE(s.eta_seconds);
  EXPECT_DOUBLE_EQ(*s.eta_seconds, 6 / (4.0 / 3.0));
  ASSERT_EQ(s.failures.size(), 1u);
  EXPECT_EQ(s.failures[0].id, "t2");
  // Nothing ended for a minute: the rate falls, the estimate grows.
  const RunStatus later = run_status(input, last_end + 120'000);
  EXPECT_DOUBLE_EQ(later.rate, 0);
  EXPECT_FALSE(later.eta_seconds);
  // All answered: no estimate, and more results than the journal says were sent still count.
  input.submitted = 2;
  const RunStatus done = run_status(input, last_end);
  EXPECT_EQ(done.submitted, 4u);
  EXPECT_EQ(done.waiting, 0u);
  EXPECT_FALSE(done.eta_seconds);
}

class ReportInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tasker-report-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  fs::path dir_;
};

TEST_F(ReportInputTest, ReadsAJournalKeepingTheFirstResultOfEachTask) {
  write(dir_ / "run.journal",
        "{\"run\":\"r1\",\"tasks\":\"t\",\"results\":\"r\"}\n{\"submitted\":3}\n"
        "{\"result\":{\"id\":\"a\",\"isSuccess\":true,\"payload\":\"first\"}}\n"
        "not json\n"
        "{\"result\":{\"id\":\"a\",\"isSuccess\":false,\"payload\":\"second\"}}\n"
        "{\"id\":\"b\",\"isSuccess\":true,\"payload\":\"a bare result line\"}\n"
        "{\"result\":{\"id\":\"c\",\"isSuc");  // a torn last record
  auto input = read_report_input(dir_.string());
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->title, "run r1");
  ASSERT_EQ(input->results.size(), 2u);
  EXPECT_EQ(input->results[0].payload, "first");
  EXPECT_EQ(input->results[1].id, "b");
  EXPECT_EQ(input->unreadable_lines, 2u);
}

TEST_F(ReportInputTest, AStateDirectoryWithoutALiveJournalGivesItsNewestFinishedRun) {
  write(dir_ / "run-old.journal", "{\"run\":\"old\"}\n");
  write(dir_ / "run-new.journal", "{\"run\":\"new\"}\n");
  fs::last_write_time(dir_ / "run-old.journal", fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto input = read_report_input(dir_.string());
  ASSERT_TRUE(input.ok()) << input.error().message;
  EXPECT_EQ(input->title, "run new");
}

TEST_F(ReportInputTest, RunsOfAStateDirectoryNewestFirst) {
  write(dir_ / "run-old.journal", "{\"run\":\"old\"}\n{\"submitted\":2}\n");
  write(dir_ / "run.journal", "{\"run\":\"live\"}\n{\"submitted\":5}\n");
  write(dir_ / "queue.db", "");
  fs::last_write_time(dir_ / "run-old.journal", fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto runs = runs_of_state_dir(dir_.string());
  ASSERT_TRUE(runs.ok()) << runs.error().message;
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].run_id, "live");
  EXPECT_FALSE((*runs)[0].finished);
  EXPECT_EQ((*runs)[0].submitted, 5u);
  EXPECT_EQ((*runs)[1].run_id, "old");
  EXPECT_TRUE((*runs)[1].finished);
  EXPECT_FALSE(runs_of_state_dir((dir_ / "none").string()).ok());
}

TEST_F(ReportInputTest, MissingSourcesAreOneLine) {
  auto empty = read_report_input(dir_.string());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "state directory " + dir_.string() +
                                       " holds no journal (run.journal or run-ID.journal)");
  auto missing = read_report_input((dir_ / "nope.jsonl").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "cannot read " + (dir_ / "nope.jsonl").string() + ": No such file or directory");
}

}  // namespace
}  // namespace tasker
