#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tasker/result.h"

namespace tasker {
namespace {

// docker-tasker's Python master reads exactly these three fields with these JSON types.
TEST(ResultTest, WritesTheThreeFieldsThePythonMasterReads) {
  const auto wire = nlohmann::json::parse(to_json(TaskResult::success("task-1", "1")));
  EXPECT_EQ(wire["id"], "task-1");
  EXPECT_EQ(wire["isSuccess"], true);
  EXPECT_EQ(wire["payload"], "1");
}

TEST(ResultTest, FailureCarriesReasonAndClass) {
  auto failure = TaskResult::failure("t", "timeout", "timeout after 30 s");
  const auto wire = nlohmann::json::parse(to_json(failure));
  EXPECT_EQ(wire["isSuccess"], false);
  EXPECT_EQ(wire["payload"], "timeout after 30 s");
  EXPECT_EQ(wire["error"], "timeout");
}

// A result as docker-tasker's Python agent writes it (json.dumps of a dict).
TEST(ResultTest, ParsesWhatThePythonAgentWrites) {
  auto result = parse_result(R"({"id": "task-1", "isSuccess": true, "payload": "1"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->id, "task-1");
  EXPECT_TRUE(result->is_success);
  EXPECT_EQ(result->payload, "1");
}

TEST(ResultTest, RoundTripsOptionalAndUnknownFields) {
  auto result = parse_result(
      R"({"id":"a","isSuccess":false,"payload":"exit code 2: boom","exitCode":2,"error":"exit",)"
      R"("durationMs":15,"startedAt":1764770000123,"attempt":2,"agent":"node-1","runId":"r","host":"h"})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->exit_code, 2);
  EXPECT_EQ(result->started_at_ms, 1764770000123);
  EXPECT_EQ(result->attempt, 2);
  EXPECT_EQ(result->extra_json, R"({"host":"h"})");
  auto again = parse_result(to_json(*result));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(to_json(*again), to_json(*result));
}

TEST(ResultTest, BadResultsAreExplained) {
  EXPECT_EQ(parse_result(R"({"isSuccess":true})").error().message, R"("id": missing (required))");
  EXPECT_EQ(parse_result(R"({"id":"a","isSuccess":"yes"})").error().message,
            R"("isSuccess": must be a boolean, got a string)");
  EXPECT_EQ(parse_result(R"({"id":"a"})").error().message, R"("isSuccess": missing (required))");
}

TEST(ResultTest, NonStringPayloadIsKeptAsJsonText) {
  auto result = parse_result(R"({"id":"a","isSuccess":true,"payload":42})");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->payload, "42");
}

}  // namespace
}  // namespace tasker
