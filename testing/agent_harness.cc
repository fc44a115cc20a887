#include "testing/agent_harness.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace tasker::testing {

TestBroker test_broker(const std::string& backend, const std::filesystem::path& dir,
                       const std::string& sqs_endpoint) {
  TestBroker broker;
  if (backend == "sqlite") {
    broker.address = "sqlite:" + (dir / "queue.db").string();
    return broker;
  }
  broker.address = "sqs://";
  broker.env = {{"AWS_ENDPOINT_URL", sqs_endpoint}, {"AWS_ACCESS_KEY_ID", "testing"},
                {"AWS_SECRET_ACCESS_KEY", "testing"}, {"AWS_REGION", "us-east-1"}};
  for (const auto& [name, value] : broker.env) setenv(name.c_str(), value.c_str(), 1);
  return broker;
}

std::string task_json(const std::string& id, const std::string& image, const std::string& command,
                      const std::string& extra) {
  std::string escaped;
  for (char c : command) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return R"({"id":")" + id + R"(","image":")" + image + R"(","arguments":")" + escaped + "\"" +
         extra + "}";
}

std::map<std::string, std::vector<TaskResult>> collect_results(Queue& results, std::size_t count,
                                                               std::chrono::seconds timeout) {
  std::map<std::string, std::vector<TaskResult>> got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto messages = results.receive(10, std::chrono::seconds(1));
    if (!messages) continue;
    std::vector<std::string> receipts;
    for (const auto& m : *messages) {
      auto result = parse_result(m.body);
      EXPECT_TRUE(result.ok()) << m.body;
      if (result.ok()) got[result->id].push_back(*result);
      receipts.push_back(m.receipt);
    }
    if (!receipts.empty()) (void)results.ack(receipts);
  }
  return got;
}

}  // namespace tasker::testing
