#include "docker/registry_auth.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace tasker::docker {
namespace {

nlohmann::json decode_header(std::string header) {
  for (char& c : header) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  std::string out(header.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(header.data()),
                                static_cast<int>(header.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return nlohmann::json::parse(out);
}

class RegistryAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tasker-auth-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/config.json";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    rmdir(dir_.c_str());
  }
  void write(const std::string& text) { std::ofstream(path_) << text; }

  std::string dir_;
  std::string path_;
};

// Given image references, we should find the registry they name, Docker Hub by default.
TEST(RegistryOfTest, NamesRegistryHost) {
  EXPECT_EQ(registry_of("busybox"), "https://index.docker.io/v1/");
  EXPECT_EQ(registry_of("library/busybox:1"), "https://index.docker.io/v1/");
  EXPECT_EQ(registry_of("docker.io/library/busybox"), "https://index.docker.io/v1/");
  EXPECT_EQ(registry_of("127.0.0.1:5000/x/y:1"), "127.0.0.1:5000");
  EXPECT_EQ(registry_of("localhost/x"), "localhost");
  EXPECT_EQ(registry_of("ghcr.io/a/b@sha256:00"), "ghcr.io");
}

// Given references with tags, digests or neither, we should split them as the pull API wants.
TEST(SplitImageTest, RepositoryAndTag) {
  EXPECT_EQ(split_image_for_pull("busybox").tag, "latest");
  EXPECT_EQ(split_image_for_pull("busybox:1.36").repository, "busybox");
  EXPECT_EQ(split_image_for_pull("busybox:1.36").tag, "1.36");
  EXPECT_EQ(split_image_for_pull("127.0.0.1:5000/x").repository, "127.0.0.1:5000/x");
  EXPECT_EQ(split_image_for_pull("127.0.0.1:5000/x").tag, "latest");
  EXPECT_EQ(split_image_for_pull("a/b@sha256:ab").repository, "a/b");
  EXPECT_EQ(split_image_for_pull("a/b@sha256:ab").tag, "sha256:ab");
}

// Given an `auth` entry for the image's registry, we should send its user and password.
TEST_F(RegistryAuthTest, EncodesAuthEntry) {
  // "tasker:s3cret:x" in base64; the password may itself hold a colon.
  write(R"({"auths": {"https://127.0.0.1:5000": {"auth": "dGFza2VyOnMzY3JldDp4"}}})");
  auto header = registry_auth_header("127.0.0.1:5000/tasker/busybox:1", path_);
  ASSERT_TRUE(header) << header.error().message;
  ASSERT_TRUE(header->has_value());
  const auto json = decode_header(**header);
  EXPECT_EQ(json["username"], "tasker");
  EXPECT_EQ(json["password"], "s3cret:x");
  EXPECT_EQ(json["serveraddress"], "127.0.0.1:5000");
}

// Given no entry for the registry, or no config file, we should send no credentials.
TEST_F(RegistryAuthTest, NoEntryNoHeader) {
  write(R"({"auths": {"other.example:5000": {"username": "u", "password": "p"}}})");
  auto header = registry_auth_header("127.0.0.1:5000/x", path_);
  ASSERT_TRUE(header);
  EXPECT_FALSE(header->has_value());
  auto missing = registry_auth_header("127.0.0.1:5000/x", dir_ + "/absent.json");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

// Given a broken config file, we should name the file in a one-line error.
TEST_F(RegistryAuthTest, BrokenConfigIsAnError) {
  write("{not json");
  auto header = registry_auth_header("busybox", path_);
  ASSERT_FALSE(header);
  EXPECT_NE(header.error().message.find(path_), std::string::npos);
  write(R"({"auths": {"docker.io": {"auth": "bm9jb2xvbg=="}}})");
  auto bad_auth = registry_auth_header("busybox", path_);
  ASSERT_FALSE(bad_auth);
  EXPECT_NE(bad_auth.error().message.find("user:password"), std::string::npos);
}

}  // namespace
}  // namespace tasker::docker
