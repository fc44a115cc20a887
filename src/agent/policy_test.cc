#include "tasker/policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tasker {
namespace {

namespace fs = std::filesystem;

const std::string kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Task task_on(const std::string& image) {
  Task task;
  task.id = "t";
  task.image = image;
  task.argv = {"true"};
  return task;
}

std::string refusal(const Task& task, const TaskPolicy& policy) {
  auto status = check_policy(task, policy);
  return status.ok() ? "(allowed)" : status.error().message;
}

TaskPolicy allowing_images(std::vector<std::string> patterns) {
  TaskPolicy policy;
  policy.allowed_images = std::move(patterns);
  return policy;
}

// Given no --allow-image, any image should run: the zero-setup default.
TEST(PolicyTest, NoImagePatternsAllowsAnyImage) {
  TaskPolicy policy;
  EXPECT_TRUE(check_policy(task_on("evil/x:1"), policy).ok());
  EXPECT_TRUE(check_policy(task_on("registry.example.com/anything@" + kDigest), policy).ok());
}

// Given patterns, an image outside them is refused with the field, the image and the flag.
TEST(PolicyTest, ImageOutsideThePatternsIsRefusedNamingTheFlag) {
  const auto policy = allowing_images({"busybox:*", "registry.local/team/*"});
  EXPECT_EQ(refusal(task_on("evil/x:1"), policy),
            R"("image": "evil/x:1" is not allowed on this agent (--allow-image))");
  EXPECT_EQ(check_policy(task_on("evil/x:1"), policy).error().kind, ErrorKind::kDenied);
  EXPECT_TRUE(check_policy(task_on("busybox:1.36"), policy).ok());
  EXPECT_TRUE(check_policy(task_on("registry.local/team/tool:2"), policy).ok());
  EXPECT_FALSE(check_policy(task_on("registry.local/other/tool:2"), policy).ok());
}

// Given a plain reference as pattern, every spelling of that image matches, and nothing else.
TEST(PolicyTest, PlainPatternMatchesEverySpellingOfTheSameImage) {
  const auto policy = allowing_images({"busybox"});
  for (const char* same : {"busybox", "busybox:latest", "library/busybox", "docker.io/busybox",
                           "docker.io/library/busybox:latest", "index.docker.io/library/busybox",
                           "DOCKER.IO/library/busybox:latest"}) {
    EXPECT_TRUE(check_policy(task_on(same), policy).ok()) << same;
  }
  for (const char* other : {"busybox:1.36", "busybox-evil", "evil.io/library/busybox",
                            "localhost/busybox", "busyboxx:latest", "library/busybox:old"}) {
    EXPECT_FALSE(check_policy(task_on(other), policy).ok()) << other;
  }
  // The pattern in its long form allows the short spelling too.
  EXPECT_TRUE(image_matches("busybox", {"index.docker.io/library/busybox:latest"}));
}

// Given a glob written in the normalised form, short spellings are matched through their
// normalised form.
TEST(PolicyTest, GlobMatchesTheNormalisedForm) {
  const auto policy = allowing_images({"docker.io/library/*"});
  EXPECT_TRUE(check_policy(task_on("busybox"), policy).ok());
  EXPECT_TRUE(check_policy(task_on("index.docker.io/library/alpine:3"), policy).ok());
  EXPECT_FALSE(check_policy(task_on("evil/busybox"), policy).ok());
  EXPECT_FALSE(check_policy(task_on("docker.io.evil.com/library/busybox"), policy).ok());
}

// Given a pattern on tags, a digest must not slip another image of the repository through
// behind an allowed tag: Docker pulls by the digest and ignores the tag.
TEST(PolicyTest, DigestCannotHideBehindAnAllowedTag) {
  const auto tags = allowing_images({"busybox:1.*"});
  EXPECT_TRUE(check_policy(task_on("busybox:1.36"), tags).ok());
  EXPECT_FALSE(check_policy(task_on("busybox:1.36@" + kDigest), tags).ok());
  EXPECT_FALSE(check_policy(task_on("busybox@" + kDigest), tags).ok());
  const auto exact = allowing_images({"busybox:1.36"});
  EXPECT_FALSE(check_policy(task_on("busybox:1.36@" + kDigest), exact).ok());
  // A pinned digest is allowed by naming it, however the task writes the tag.
  const auto pinned = allowing_images({"busybox@" + kDigest});
  EXPECT_TRUE(check_policy(task_on("busybox@" + kDigest), pinned).ok());
  EXPECT_TRUE(check_policy(task_on("docker.io/library/busybox:any@" + kDigest), pinned).ok());
  const auto digests = allowing_images({"busybox@sha256:*"});
  EXPECT_TRUE(check_policy(task_on("busybox@" + kDigest), digests).ok());
  EXPECT_FALSE(check_policy(task_on("busybox:1"), digests).ok());
}

// Given case games, nothing is allowed that the pattern does not name: hosts compare without
// case, tags with it.
TEST(PolicyTest, CaseDoesNotBypassPatterns) {
  const auto policy = allowing_images({"registry.local/team/*"});
  EXPECT_TRUE(check_policy(task_on("REGISTRY.local/team/tool:1"), policy).ok());
  EXPECT_FALSE(check_policy(task_on("registry.localx/team/tool:1"), policy).ok());
  const auto tag = allowing_images({"busybox:stable"});
  EXPECT_FALSE(check_policy(task_on("busybox:STABLE"), tag).ok());
}

// Given host networking or another container's namespace, the task is refused unless allowed;
// ordinary networks always pass.
TEST(PolicyTest, HostNetworkNeedsTheFlag) {
  TaskPolicy policy;
  auto task = task_on("busybox");
  task.network = "host";
  EXPECT_EQ(refusal(task, policy),
            R"("network": host networking is not allowed on this agent (--allow-host-network))");
  task.network = "HOST";
  EXPECT_FALSE(check_policy(task, policy).ok());
  task.network = "container:db";
  EXPECT_EQ(refusal(task, policy),
            R"("network": "container:db" shares another container's network, which is not )"
            R"(allowed on this agent (--allow-host-network))");
  for (const char* fine : {"none", "bridge", "default", "my-net", "hostile"}) {
    task.network = fine;
    EXPECT_TRUE(check_policy(task, policy).ok()) << fine;
  }
  policy.allow_host_network = true;
  task.network = "host";
  EXPECT_TRUE(check_policy(task, policy).ok());
  task.network = "container:db";
  EXPECT_TRUE(check_policy(task, policy).ok());
}

TEST(PolicyTest, PrivilegedNeedsTheFlag) {
  TaskPolicy policy;
  auto task = task_on("busybox");
  task.privileged = false;
  EXPECT_TRUE(check_policy(task, policy).ok());
  task.privileged = true;
  EXPECT_EQ(refusal(task, policy),
            R"("privileged": privileged containers are not allowed on this agent (--allow-privileged))");
  policy.allow_privileged = true;
  EXPECT_TRUE(check_policy(task, policy).ok());
}

// A real directory tree: /data (with a file, a link out and a link in), /database, /etc-like.
class MountPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tasker-policy-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "data" / "in");
    fs::create_directories(root_ / "database");
    fs::create_directories(root_ / "secret");
    std::ofstream(root_ / "data" / "in" / "file.txt") << "x";
    fs::create_directory_symlink(root_ / "secret", root_ / "data" / "escape");
    fs::create_directory_symlink(root_ / "data" / "in", root_ / "data" / "alias");
    policy_.allowed_mounts = {{(root_ / "data").string(), false}};
  }
  void TearDown() override { fs::remove_all(root_); }

  Task mounting(const std::string& spec) {
    auto task = task_on("busybox");
    task.mounts = {spec};
    return task;
  }
  std::string at(const std::string& relative) { return (root_ / relative).string(); }

  fs::path root_;
  TaskPolicy policy_;
};

TEST_F(MountPolicyTest, MountsAreRefusedWithoutTheFlag) {
  TaskPolicy none;
  const std::string spec = at("data/in") + ":/in";
  EXPECT_EQ(refusal(mounting(spec), none),
            "\"mounts[0]\": \"" + spec +
                "\": host mounts are not allowed on this agent (--allow-mount HOST_PREFIX)");
}

TEST_F(MountPolicyTest, PathsUnderTheAllowedPrefixPass) {
  EXPECT_TRUE(check_policy(mounting(at("data") + ":/data"), policy_).ok());
  EXPECT_TRUE(check_policy(mounting(at("data/in") + ":/in:ro"), policy_).ok());
  EXPECT_TRUE(check_policy(mounting(at("data/in/file.txt") + ":/f"), policy_).ok());
  // A link that stays inside the prefix is fine.
  EXPECT_TRUE(check_policy(mounting(at("data/alias") + ":/in"), policy_).ok());
}

// Given /data allowed, /database is a different directory, not a longer name under it.
TEST_F(MountPolicyTest, PrefixMatchesWholeComponents) {
  const std::string spec = at("database") + ":/db";
  EXPECT_EQ(refusal(mounting(spec), policy_),
            "\"mounts[0]\": \"" + spec + "\": host path " + at("database") +
                " is outside the allowed host paths " + at("data") + " (--allow-mount)");
}

TEST_F(MountPolicyTest, SymlinkCannotEscapeThePrefix) {
  const std::string spec = at("data/escape") + ":/x";
  EXPECT_EQ(refusal(mounting(spec), policy_),
            "\"mounts[0]\": \"" + spec + "\": host path " + at("data/escape") + " resolves to " +
                at("secret") + ", which is outside the allowed host paths " + at("data") +
                " (--allow-mount)");
}

TEST_F(MountPolicyTest, DotDotAndMissingSourcesAreRefused) {
  EXPECT_NE(refusal(mounting(at("data") + "/../secret:/x"), policy_).find("must not contain '..'"),
            std::string::npos);
  const std::string missing = at("data/nope") + ":/x";
  EXPECT_EQ(refusal(mounting(missing), policy_),
            "\"mounts[0]\": \"" + missing + "\": host path " + at("data/nope") + " does not exist");
}

// Given a read-only prefix, only :ro mounts under it pass.
TEST_F(MountPolicyTest, ReadOnlyPrefixNeedsReadOnlyMounts) {
  policy_.allowed_mounts = {{at("data"), true}};
  EXPECT_TRUE(check_policy(mounting(at("data/in") + ":/in:ro"), policy_).ok());
  EXPECT_NE(refusal(mounting(at("data/in") + ":/in"), policy_)
                .find("may only be mounted read-only on this agent (add :ro)"),
            std::string::npos);
  // A writable prefix elsewhere in the list still allows writing there.
  policy_.allowed_mounts.push_back({at("data/in"), false});
  EXPECT_TRUE(check_policy(mounting(at("data/in") + ":/in"), policy_).ok());
}

// Given several mounts, the refused one is named by its index.
TEST_F(MountPolicyTest, TheRefusedEntryIsNamedByIndex) {
  auto task = task_on("busybox");
  task.mounts = {at("data/in") + ":/in", at("secret") + ":/s"};
  EXPECT_EQ(refusal(task, policy_).rfind("\"mounts[1]\": ", 0), 0u) << refusal(task, policy_);
}

TEST(PolicyTest, RootPrefixAllowsAnyExistingPath) {
  TaskPolicy policy;
  policy.allowed_mounts = {{"/", false}};
  auto task = task_on("busybox");
  task.mounts = {"/tmp:/t"};
  EXPECT_TRUE(check_policy(task, policy).ok());
}

// Given caps, a task asking for more is refused (not clamped), naming the field and the cap.
TEST(PolicyTest, ResourceRequestsOverTheCapsAreRefused) {
  TaskPolicy policy;
  policy.max_memory_bytes = std::int64_t{2} << 30;
  policy.max_cpus = 2;
  auto task = task_on("busybox");
  task.memory_bytes = std::int64_t{2} << 30;
  task.cpus = 2;
  EXPECT_TRUE(check_policy(task, policy).ok());
  task.memory_bytes = std::int64_t{8} << 30;
  EXPECT_EQ(refusal(task, policy), R"("memory": 8 GiB is over this agent's cap of 2 GiB (--max-memory))");
  task.memory_bytes = 512 << 20;
  task.cpus = 2.5;
  EXPECT_EQ(refusal(task, policy), R"("cpus": 2.5 is over this agent's cap of 2 (--max-cpus))");
}

TEST(PolicyTest, HostDefaultsCapMemoryBySlotsAndCpusByTheCpuCount) {
  const auto one = host_default_policy(1);
  const auto four = host_default_policy(4);
  ASSERT_TRUE(one.max_memory_bytes && four.max_memory_bytes);
  EXPECT_GT(*one.max_memory_bytes, 0);
  EXPECT_EQ(*four.max_memory_bytes, *one.max_memory_bytes / 4);
  EXPECT_GE(one.max_cpus.value_or(0), 1.0);
  EXPECT_EQ(one.pids_limit, 4096);
  EXPECT_NE(describe(TaskPolicy{}).find("any image (no --allow-image given)"), std::string::npos);
}

}  // namespace
}  // namespace tasker
