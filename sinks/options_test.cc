#include "sinks/options.h"

#include <cstdlib>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

TEST(SinkOptionsTest, ReadsEachShapeAndFallsBackWhenAbsent) {
  const SinkSpec spec{.type = "webhook",
                      .options = {{"url", "http://x"},
                                  {"timeout", "250ms"},
                                  {"batch_size", "20"},
                                  {"fsync", "true"},
                                  {"urls", OptionValue::List({"a", "b"})},
                                  {"headers", OptionValue::Map({{"X-A", "1"}})}}};
  SinkOptions o(spec);
  EXPECT_EQ(o.String("url"), "http://x");
  EXPECT_EQ(o.Duration("timeout", absl::Seconds(1)), absl::Milliseconds(250));
  EXPECT_EQ(o.Integer("batch_size", 1, 1, 100), 20);
  EXPECT_TRUE(o.Bool("fsync", false));
  EXPECT_EQ(o.List("urls"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.List("url"), (std::vector<std::string>{"http://x"})) << "a single value is a list";
  EXPECT_EQ(o.Map("headers").at("X-A"), "1");
  EXPECT_EQ(o.String("absent", "fallback"), "fallback");
  EXPECT_TRUE(o.Finish().ok()) << o.Finish();
}

TEST(SinkOptionsTest, ReportsEveryBadValueAndEveryUnknownOptionAtOnce) {
  const SinkSpec spec{.type = "webhook",
                      .options = {{"timeout", "soon"},
                                  {"batch_size", "5000"},
                                  {"format", "xml"},
                                  {"headers", "not a map"},
                                  {"colour", "red"}}};
  SinkOptions o(spec);
  o.Duration("timeout", absl::Seconds(1));
  o.Integer("batch_size", 1, 1, 1000);
  o.Choice("format", "json", {"json", "slack"});
  o.Map("headers");
  const absl::Status s = o.Finish();
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const std::string m(s.message());
  EXPECT_THAT(m, HasSubstr("sink webhook: "));
  EXPECT_THAT(m, HasSubstr("timeout: must be a positive duration such as 500ms, 10s or 5m, got "
                           "\"soon\""));
  EXPECT_THAT(m, HasSubstr("batch_size: must be a whole number from 1 to 1000, got \"5000\""));
  EXPECT_THAT(m, HasSubstr("format: must be json or slack, got \"xml\""));
  EXPECT_THAT(m, HasSubstr("headers: must be a mapping of strings"));
  EXPECT_THAT(m, HasSubstr("colour: unknown option (known: batch_size, format, headers, timeout)"));
}

TEST(SinkOptionsTest, ReadsASecretInlineFromAFileOrFromTheEnvironment) {
  const std::string file = ::testing::TempDir() + "/sink_options_secret";
  std::ofstream(file) << "from-file\n";
  setenv("FAULTLINE_TEST_SECRET", "from-env", 1);
  SinkOptions inline_opt(SinkSpec{.type = "t", .options = {{"secret", "inline"}}});
  SinkOptions file_opt(SinkSpec{.type = "t", .options = {{"secret_file", file}}});
  SinkOptions env_opt(SinkSpec{.type = "t", .options = {{"secret_env", "FAULTLINE_TEST_SECRET"}}});
  EXPECT_EQ(inline_opt.Secret("secret", true), "inline");
  EXPECT_EQ(file_opt.Secret("secret", true), "from-file") << "trailing newline stripped";
  EXPECT_EQ(env_opt.Secret("secret", true), "from-env");
  EXPECT_TRUE(inline_opt.Finish().ok());
  EXPECT_TRUE(file_opt.Finish().ok());
  EXPECT_TRUE(env_opt.Finish().ok());
}

TEST(SinkOptionsTest, RefusesAMissingOrAmbiguousSecret) {
  SinkOptions missing(SinkSpec{.type = "pagerduty"});
  missing.Secret("routing_key", /*required=*/true);
  EXPECT_THAT(std::string(missing.Finish().message()),
              HasSubstr("routing_key: required (or routing_key_file / routing_key_env)"));

  SinkOptions both(SinkSpec{.type = "t", .options = {{"secret", "a"}, {"secret_env", "B"}}});
  both.Secret("secret", false);
  EXPECT_THAT(std::string(both.Finish().message()),
              HasSubstr("give only one of secret, secret_file, secret_env"));

  SinkOptions unset(SinkSpec{.type = "t", .options = {{"secret_env", "FAULTLINE_NO_SUCH_VAR"}}});
  unset.Secret("secret", false);
  EXPECT_THAT(std::string(unset.Finish().message()),
              HasSubstr("environment variable FAULTLINE_NO_SUCH_VAR is not set"));

  SinkOptions no_file(SinkSpec{.type = "t", .options = {{"secret_file", "/nonexistent/s"}}});
  no_file.Secret("secret", false);
  EXPECT_THAT(std::string(no_file.Finish().message()), HasSubstr("cannot read /nonexistent/s"));
}

}  // namespace
}  // namespace faultline
