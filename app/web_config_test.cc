#include "app/web_config.h"

#include <crypt.h>

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

// A bcrypt hash of `password` at the lowest cost, made by the same libcrypt.
std::string Bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  EXPECT_NE(hash, nullptr);
  return hash;
}

std::string ScratchDir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/faultline-web-" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(BcryptMatchesTest, AcceptsTheRightPasswordOnly) {
  const std::string hash = Bcrypt("s3cret");
  ASSERT_EQ(hash.substr(0, 4), "$2y$");
  EXPECT_TRUE(BcryptMatches("s3cret", hash));
  EXPECT_FALSE(BcryptMatches("s3cret ", hash));
  EXPECT_FALSE(BcryptMatches("", hash));
  EXPECT_FALSE(BcryptMatches(std::string("s3cret\0more", 11), hash))
      << "crypt() would stop at the NUL";
  EXPECT_FALSE(BcryptMatches("s3cret", "not a hash"));
}

TEST(WebConfigTest, ReadsTlsAndUsersWithPathsRelativeToTheFile) {
  const std::string dir = ScratchDir("relative");
  std::ofstream(dir + "/tls.crt") << "x";
  std::ofstream(dir + "/tls.key") << "x";
  const std::string hash = Bcrypt("pw");
  std::ofstream(dir + "/web.yml") << "tls_server_config:\n"
                                     "  cert_file: tls.crt\n"
                                     "  key_file: tls.key\n"
                                     "  min_version: TLS13\n"
                                     "basic_auth_users:\n"
                                     "  prometheus: "
                                  << hash << "\n";
  absl::StatusOr<WebConfig> web = LoadWebConfigFile(dir + "/web.yml");
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_TRUE(web->tls);
  EXPECT_EQ(web->tls_server_config.cert_file, dir + "/tls.crt");
  EXPECT_EQ(web->tls_server_config.key_file, dir + "/tls.key");
  EXPECT_EQ(web->tls_server_config.min_version, 0x0304);
  EXPECT_EQ(web->tls_server_config.client_auth_type, ClientAuth::kNoClientCert);
  ASSERT_EQ(web->basic_auth_users.size(), 1u);
  EXPECT_EQ(web->basic_auth_users[0].first, "prometheus");
}

TEST(WebConfigTest, AnEmptyFileMeansPlainHttpWithoutUsers) {
  absl::StatusOr<WebConfig> web = ParseWebConfig("", "web.yml", ".");
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_FALSE(web->tls);
  EXPECT_TRUE(web->basic_auth_users.empty());
}

TEST(WebConfigTest, ReportsEveryProblemWithItsFileLineAndKeyPath) {
  absl::StatusOr<WebConfig> web = ParseWebConfig(
      "tls_server_config:\n"
      "  cert_file: /nonexistent/tls.crt\n"
      "  key_file: /nonexistent/tls.key\n"
      "  min_version: TLS9\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  cipher_suits: [x]\n"
      "basic_auth_users:\n"
      "  alice: hunter2\n"
      "http_server_config: {}\n",
      "web.yml", "/etc");
  ASSERT_FALSE(web.ok());
  EXPECT_EQ(web.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(web.status().message());
  EXPECT_THAT(message, HasSubstr("web.yml:4:16: tls_server_config.min_version: "));
  EXPECT_THAT(message, HasSubstr("web.yml:6:3: tls_server_config.cipher_suits: "));
  EXPECT_THAT(message, HasSubstr("tls_server_config.client_auth_type: verifying client "
                                 "certificates needs client_ca_file"));
  EXPECT_THAT(message, HasSubstr("web.yml:8:10: basic_auth_users.alice: must be a bcrypt hash"));
  EXPECT_THAT(message, HasSubstr("web.yml:9:1: http_server_config: "));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("hunter2"))) << "a value that may be a password";
}

TEST(WebConfigTest, RefusesCertificateFilesItCannotRead) {
  absl::StatusOr<WebConfig> web =
      ParseWebConfig("tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n",
                     "web.yml", "/nonexistent");
  ASSERT_FALSE(web.ok());
  EXPECT_THAT(std::string(web.status().message()),
              HasSubstr("web.yml:2:14: tls_server_config.cert_file: cannot read "
                        "/nonexistent/missing.crt"));
}

TEST(WebConfigTest, LoadNamesTheSettingAndTheFile) {
  const std::string dir = ScratchDir("bad");
  std::ofstream(dir + "/web.yml") << "basic_auth_users: [alice]\n";
  absl::StatusOr<WebConfig> web = LoadWebConfigFile(dir + "/web.yml");
  ASSERT_FALSE(web.ok());
  EXPECT_THAT(std::string(web.status().message()),
              HasSubstr("metrics.web_config_file: " + dir + "/web.yml:1:19: basic_auth_users: "));
  EXPECT_EQ(LoadWebConfigFile(dir + "/absent.yml").status().code(), absl::StatusCode::kNotFound);
}

TEST(WebConfigTest, TheShippedExampleIsValid) {
  const std::string dir = ScratchDir("example");
  std::filesystem::copy_file(std::string(FAULTLINE_SOURCE_DIR) + "/deploy/examples/web-config.yml",
                             dir + "/web-config.yml");
  std::ofstream(dir + "/tls.crt") << "x";
  std::ofstream(dir + "/tls.key") << "x";
  absl::StatusOr<WebConfig> web = LoadWebConfigFile(dir + "/web-config.yml");
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_TRUE(web->tls);
  ASSERT_EQ(web->basic_auth_users.size(), 1u);
  EXPECT_TRUE(BcryptMatches("change me", web->basic_auth_users[0].second));
}

}  // namespace
}  // namespace faultline
