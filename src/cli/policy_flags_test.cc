#include "cli/policy_flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace tasker::cli {
namespace {

std::string error_of(const PolicyFlags& flags) {
  auto policy = policy_from_flags(flags, 2);
  return policy.ok() ? "(no error)" : policy.error().message;
}

// Given no policy flags, the defaults should be the host's: any image, nothing past the
// container, memory / slots, the CPU count, 4096 processes.
TEST(PolicyFlagsTest, NoFlagsGiveTheHostDefaults) {
  auto policy = policy_from_flags({}, 2);
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  EXPECT_TRUE(policy->allowed_images.empty());
  EXPECT_FALSE(policy->allow_host_network);
  EXPECT_FALSE(policy->allow_privileged);
  EXPECT_TRUE(policy->allowed_mounts.empty());
  EXPECT_EQ(policy->max_memory_bytes, host_default_policy(2).max_memory_bytes);
  EXPECT_EQ(policy->max_cpus, host_default_policy(2).max_cpus);
  EXPECT_EQ(policy->pids_limit, 4096);
}

TEST(PolicyFlagsTest, GoodFlagsBecomeThePolicy) {
  PolicyFlags flags;
  flags.allow_image = {"busybox", "registry.local/team/*"};
  flags.allow_host_network = true;
  flags.allow_privileged = true;
  flags.allow_mount = {"/tmp", "/:ro"};
  flags.max_memory = "2g";
  flags.max_cpus = "1.5";
  flags.pids_limit = "100";
  auto policy = policy_from_flags(flags, 2);
  ASSERT_TRUE(policy.ok()) << policy.error().message;
  EXPECT_EQ(policy->allowed_images, flags.allow_image);
  EXPECT_TRUE(policy->allow_host_network);
  EXPECT_TRUE(policy->allow_privileged);
  ASSERT_EQ(policy->allowed_mounts.size(), 2u);
  EXPECT_EQ(policy->allowed_mounts[0].host_prefix, std::filesystem::canonical("/tmp").string());
  EXPECT_FALSE(policy->allowed_mounts[0].read_only);
  EXPECT_EQ(policy->allowed_mounts[1].host_prefix, "/");
  EXPECT_TRUE(policy->allowed_mounts[1].read_only);
  EXPECT_EQ(policy->max_memory_bytes, std::int64_t{2} << 30);
  EXPECT_EQ(policy->max_cpus, 1.5);
  EXPECT_EQ(policy->pids_limit, 100);
  flags.pids_limit = "0";
  EXPECT_FALSE(policy_from_flags(flags, 2)->pids_limit.has_value());
}

// Given a bad value, the error is one line naming the flag and the value.
TEST(PolicyFlagsTest, BadValuesAreOneLineErrorsNamingTheFlag) {
  auto with = [](auto set) {
    PolicyFlags flags;
    set(flags);
    return error_of(flags);
  };
  EXPECT_EQ(with([](PolicyFlags& f) { f.allow_mount = {"relative"}; }),
            "--allow-mount 'relative': must be an absolute host path such as /data");
  EXPECT_EQ(with([](PolicyFlags& f) { f.allow_mount = {"/no/such/dir-" + std::to_string(getpid())}; }),
            "--allow-mount '/no/such/dir-" + std::to_string(getpid()) + "': No such file or directory");
  EXPECT_EQ(with([](PolicyFlags& f) { f.allow_mount = {"/tmp:rx"}; }),
            "--allow-mount '/tmp:rx': mode 'rx' is not ro or rw");
  EXPECT_EQ(with([](PolicyFlags& f) { f.max_memory = "12q"; }),
            "--max-memory '12q': unknown unit 'q' (use b, k, m, g or t)");
  EXPECT_EQ(with([](PolicyFlags& f) { f.max_memory = "lots"; }),
            "--max-memory 'lots': 'lots' is not a size such as 512m or 2g");
  EXPECT_EQ(with([](PolicyFlags& f) { f.max_memory = "1k"; }),
            "--max-memory '1k': must be at least 6m (Docker's minimum)");
  EXPECT_EQ(with([](PolicyFlags& f) { f.max_cpus = "two"; }),
            "--max-cpus 'two': must be a number greater than 0 and at most 1024");
  EXPECT_EQ(with([](PolicyFlags& f) { f.max_cpus = "0"; }),
            "--max-cpus '0': must be a number greater than 0 and at most 1024");
  EXPECT_EQ(with([](PolicyFlags& f) { f.pids_limit = "-1"; }),
            "--pids-limit '-1': must be a whole number (0: no limit)");
  EXPECT_EQ(with([](PolicyFlags& f) { f.pids_limit = "10x"; }),
            "--pids-limit '10x': must be a whole number (0: no limit)");
  EXPECT_EQ(with([](PolicyFlags& f) { f.allow_image = {""}; }), "--allow-image '': is empty");
  EXPECT_EQ(with([](PolicyFlags& f) { f.allow_image = {"Busybox"}; }),
            "--allow-image 'Busybox': is not an image reference: it repository name component "
            "'Busybox' must be lowercase letters and digits, separated by '.', '_' or '-'");
}

}  // namespace
}  // namespace tasker::cli
