#include <gtest/gtest.h>

#include "tasker/task.h"

namespace tasker {
namespace {

std::string error_of(std::string_view json) {
  auto task = parse_task(json);
  return task.ok() ? "(no error)" : task.error().message;
}

TEST(TaskTest, ParsesTheSeedTask) {
  auto task = parse_task(R"({"id":"task-1","image":"ubuntu","arguments":"/bin/bash -c 'sleep 10; echo 1'"})");
  ASSERT_TRUE(task.ok()) << task.error().message;
  EXPECT_EQ(task->id, "task-1");
  EXPECT_EQ(task->image, "ubuntu");
  EXPECT_EQ(task->argv, (std::vector<std::string>{"/bin/bash", "-c", "sleep 10; echo 1"}));
  EXPECT_EQ(task->command_line, "/bin/bash -c 'sleep 10; echo 1'");
}

TEST(TaskTest, AcceptsArgumentsAsAnArray) {
  auto task = parse_task(R"({"id":"a","image":"busybox","arguments":["sh","-c","echo 'x'"]})");
  ASSERT_TRUE(task.ok()) << task.error().message;
  EXPECT_EQ(task->argv, (std::vector<std::string>{"sh", "-c", "echo 'x'"}));
  EXPECT_FALSE(task->command_line.has_value());
}

TEST(TaskTest, ParsesEveryOptionalField) {
  auto task = parse_task(R"({"id":"a","image":"registry.local:5000/team/tool:1.2@sha256:)"
                         R"(0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",)"
                         R"("arguments":"run","env":{"A":"1","B":""},"timeout":30,"cpus":0.5,)"
                         R"("memory":"512m","network":"none","workdir":"/work","user":"1000:1000",)"
                         R"("entrypoint":"/bin/sh -c","maxAttempts":3,"runId":"r1","replyQueue":"q"})");
  ASSERT_TRUE(task.ok()) << task.error().message;
  EXPECT_EQ(task->env.at("A"), "1");
  EXPECT_EQ(task->timeout_seconds, 30.0);
  EXPECT_EQ(task->cpus, 0.5);
  EXPECT_EQ(task->memory_bytes, 512 * 1024 * 1024);
  EXPECT_EQ(task->network, "none");
  EXPECT_EQ(task->workdir, "/work");
  EXPECT_EQ(task->user, "1000:1000");
  EXPECT_EQ(task->entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(task->max_attempts, 3);
  EXPECT_EQ(task->run_id, "r1");
  EXPECT_EQ(task->reply_queue, "q");
}

TEST(TaskTest, NullOptionalFieldsMeanUnset) {
  auto task = parse_task(R"({"id":"a","image":"busybox","arguments":"true","timeout":null,"env":null})");
  ASSERT_TRUE(task.ok()) << task.error().message;
  EXPECT_FALSE(task->timeout_seconds.has_value());
}

// Unknown fields are the extension point: kept, written back, never an error.
TEST(TaskTest, UnknownFieldsAreKeptAndWrittenBack) {
  auto task = parse_task(R"({"id":"a","image":"busybox","arguments":"true","priority":7,"tags":["x"]})");
  ASSERT_TRUE(task.ok()) << task.error().message;
  auto again = parse_task(to_json(*task));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->extra_json, R"({"priority":7,"tags":["x"]})");
}

TEST(TaskTest, RoundTripKeepsTheArgumentsString) {
  const std::string wire = R"({"arguments":"sh -c 'echo 1'","id":"a","image":"busybox"})";
  auto task = parse_task(wire);
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(to_json(*task), wire);
}

TEST(TaskTest, MissingRequiredFieldsAreNamed) {
  EXPECT_EQ(error_of(R"({"image":"busybox","arguments":"true"})"), R"("id": missing (required))");
  EXPECT_EQ(error_of(R"({"id":"a","arguments":"true"})"), R"("image": missing (required))");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox"})"), R"("arguments": missing (required))");
  EXPECT_EQ(error_of(R"({"id":null,"image":"busybox","arguments":"x"})"), R"("id": missing (required))");
}

TEST(TaskTest, TypeMismatchesNameFieldAndBothTypes) {
  EXPECT_EQ(error_of(R"({"id":7,"image":"busybox","arguments":"true"})"),
            R"("id": must be a string, got a number)");
  EXPECT_EQ(error_of(R"({"id":"a","image":["x"],"arguments":"true"})"),
            R"("image": must be a string, got an array)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":{}})"),
            R"("arguments": must be a string or an array of strings, got an object)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":["sh",1]})"),
            R"("arguments[1]": must be a string, got a number)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","timeout":"10"})"),
            R"("timeout": must be a number, got a string)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","env":{"A":1}})"),
            R"("env.A": must be a string, got a number)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","maxAttempts":1.5})"),
            R"("maxAttempts": must be an integer, got a number)");
}

TEST(TaskTest, BadValuesAreExplained) {
  EXPECT_EQ(error_of(R"({"id":"","image":"busybox","arguments":"true"})"), R"("id": is empty)");
  EXPECT_EQ(error_of(R"({"id":")" + std::string(300, 'x') + R"(","image":"busybox","arguments":"true"})"),
            R"("id": is 300 bytes, over the 256-byte limit)");
  EXPECT_EQ(error_of(R"({"id":"a\nb","image":"busybox","arguments":"true"})"),
            R"("id": contains a control character)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"sh -c 'echo"})"),
            R"("arguments": unbalanced single quote)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","timeout":-1})"),
            R"("timeout": must be greater than 0)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","timeout":1e12})"),
            R"("timeout": must be at most 604800 s)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","memory":"12q"})"),
            R"("memory": unknown unit 'q' (use b, k, m, g or t))");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","memory":1024})"),
            R"("memory": must be between 6m and 1t)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","workdir":"rel"})"),
            R"("workdir": must be an absolute path)");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","maxAttempts":0})"),
            R"("maxAttempts": must be between 1 and 1000)");
}

// Given privileged and mounts, they should be parsed, taken apart and written back unchanged.
TEST(TaskTest, PrivilegedAndMountsAreParsedAndWrittenBack) {
  const std::string wire =
      R"({"arguments":"true","id":"a","image":"busybox","mounts":["/data/in:/in:ro","/data/out:/out"],"privileged":true})";
  auto task = parse_task(wire);
  ASSERT_TRUE(task.ok()) << task.error().message;
  EXPECT_EQ(task->privileged, true);
  EXPECT_EQ(task->mounts, (std::vector<std::string>{"/data/in:/in:ro", "/data/out:/out"}));
  EXPECT_EQ(to_json(*task), wire);
  auto in = parse_mount(task->mounts[0]);
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->source, "/data/in");
  EXPECT_EQ(in->target, "/in");
  EXPECT_TRUE(in->read_only);
  auto out = parse_mount("/data/out:/out:rw");
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->read_only);
  // Absent, they stay absent on the wire.
  auto bare = parse_task(R"({"id":"a","image":"busybox","arguments":"true"})");
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->privileged.has_value());
  EXPECT_TRUE(bare->mounts.empty());
  EXPECT_EQ(to_json(*bare).find("mounts"), std::string::npos);
}

// Given a bad mount or privileged value, the error should name the field, the entry and the fault.
TEST(TaskTest, BadMountsAndPrivilegedAreExplained) {
  const std::string head = R"({"id":"a","image":"busybox","arguments":"x",)";
  EXPECT_EQ(error_of(head + R"("privileged":"yes"})"), R"("privileged": must be true or false, got a string)");
  EXPECT_EQ(error_of(head + R"("mounts":"/a:/b"})"),
            R"("mounts": must be an array of "SOURCE:TARGET[:ro]" strings, got a string)");
  EXPECT_EQ(error_of(head + R"("mounts":["/a:/b",7]})"), R"("mounts[1]": must be a string, got a number)");
  EXPECT_EQ(error_of(head + R"("mounts":["/a:/b","data:/x"]})"),
            R"("mounts[1]": "data:/x": host path must be absolute)");
  EXPECT_EQ(error_of(head + R"("mounts":["/data:x"]})"), R"("mounts[0]": "/data:x": container path must be absolute)");
  EXPECT_EQ(error_of(head + R"("mounts":["/data"]})"),
            R"("mounts[0]": "/data": must be SOURCE:TARGET or SOURCE:TARGET:ro (paths cannot contain ':'))");
  EXPECT_EQ(error_of(head + R"("mounts":["/a:/b:c:d"]})"),
            R"("mounts[0]": "/a:/b:c:d": must be SOURCE:TARGET or SOURCE:TARGET:ro (paths cannot contain ':'))");
  EXPECT_EQ(error_of(head + R"("mounts":["/a:/b:rx"]})"), R"("mounts[0]": "/a:/b:rx": mode 'rx' is not ro or rw)");
  EXPECT_EQ(error_of(head + R"("mounts":["/data/../etc:/x"]})"),
            R"("mounts[0]": "/data/../etc:/x": host path must not contain '..')");
  EXPECT_EQ(error_of(head + R"("mounts":["/data:/"]})"), R"("mounts[0]": "/data:/": container path must not be /)");
  EXPECT_EQ(error_of(head + R"("mounts":["/a:/x","/b:/x"]})"),
            R"("mounts[1]": "/b:/x": container path /x is mounted twice)");
  EXPECT_EQ(error_of(head + R"("mounts":[""]})"), R"("mounts[0]": "": is empty (want SOURCE:TARGET[:ro|:rw]))");
}

// Given the same image written in different ways, the normalised forms should be equal.
TEST(ImageReferenceTest, NormalisesTheWaysOfWritingOneImage) {
  for (const char* same : {"busybox", "busybox:latest", "library/busybox", "docker.io/busybox",
                           "docker.io/library/busybox:latest", "index.docker.io/library/busybox",
                           "DOCKER.IO/library/busybox", "Index.Docker.IO/busybox:latest"}) {
    EXPECT_EQ(normalize_image_reference(same), "docker.io/library/busybox:latest") << same;
  }
  EXPECT_EQ(normalize_image_reference("team/tool:1"), "docker.io/team/tool:1");
  EXPECT_EQ(normalize_image_reference("localhost:5000/tool"), "localhost:5000/tool:latest");
  EXPECT_EQ(normalize_image_reference("Registry.Local/team/tool:V1"), "registry.local/team/tool:V1");
  const std::string digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  EXPECT_EQ(normalize_image_reference("busybox:1.36@" + digest), "docker.io/library/busybox@" + digest);
}

TEST(ByteSizeTest, ParsesUnitsAndRefusesTheRest) {
  EXPECT_EQ(*parse_byte_size("1048576"), 1048576);
  EXPECT_EQ(*parse_byte_size("512m"), 512LL << 20);
  EXPECT_EQ(*parse_byte_size("2G"), 2LL << 30);
  EXPECT_EQ(*parse_byte_size("1.5gb"), 3LL << 29);
  EXPECT_EQ(*parse_byte_size("64KiB"), 64LL << 10);
  EXPECT_EQ(parse_byte_size("12q").error().message, "unknown unit 'q' (use b, k, m, g or t)");
  EXPECT_EQ(parse_byte_size("lots").error().message, "'lots' is not a size such as 512m or 2g");
  EXPECT_EQ(parse_byte_size("-5m").error().message, "'-5m' is not a size such as 512m or 2g");
  EXPECT_EQ(parse_byte_size("").error().message, "'' is not a size such as 512m or 2g");
  EXPECT_EQ(parse_byte_size("1e30t").error().message, "'1e30t' is not a size such as 512m or 2g");
}

TEST(TaskTest, HostileImageReferencesAreRefused) {
  for (const char* image : {"", "Ubuntu", "a b", "../etc", "busybox:", "busybox:-x", "a//b",
                            "host:99999999/x", "busybox@sha256:xyz", "--privileged", "a\u0001b"}) {
    std::string json = R"({"id":"a","arguments":"x","image":")" + std::string(image) + "\"}";
    if (std::string(image) == "a\u0001b") json = R"({"id":"a","arguments":"x","image":"a\u0001b"})";
    EXPECT_EQ(error_of(json).rfind("\"image\": ", 0), 0u) << image << " -> " << error_of(json);
  }
  for (const char* image : {"busybox", "library/busybox:1.36", "localhost:5000/tasker/busybox",
                            "ghcr.io/org/tool_x:v1.0-rc.1", "a__b/c-d"}) {
    EXPECT_TRUE(validate_image_reference(image).ok()) << image;
  }
}

TEST(TaskTest, NotJsonOrNotAnObjectIsExplained) {
  EXPECT_EQ(error_of("{\"id\":").rfind("not valid JSON at byte", 0), 0u) << error_of("{\"id\":");
  EXPECT_EQ(error_of("[1,2]"), "must be a JSON object, got an array");
  EXPECT_EQ(error_of("\"x\""), "must be a JSON object, got a string");
  EXPECT_EQ(error_of(R"({"id":"a","image":"busybox","arguments":"x","timeout":4E534545})"),
            "not valid JSON: a number is out of range");
  // Invalid UTF-8 inside a string is a JSON error, not something passed on to Docker.
  EXPECT_EQ(error_of("{\"id\":\"\xff\"}").rfind("not valid JSON", 0), 0u);
}

TEST(TaskTest, OversizedBodyIsRefusedBeforeParsing) {
  const std::string body = R"({"id":"a","image":"busybox","arguments":")" +
                           std::string(kMaxBodyBytes, 'x') + "\"}";
  EXPECT_EQ(error_of(body), "task is " + std::to_string(body.size()) + " bytes, over the 262144-byte limit");
}

}  // namespace
}  // namespace tasker
