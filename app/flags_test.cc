#include "app/flags.h"

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Parsed {
  std::string config;
  std::vector<std::string> topics;
  bool quiet = false;
  std::vector<std::string> files;
};

CommandLine Table(Parsed* p) {
  return {.command = "toy",
          .synopsis = "FILE... [--config FILE]",
          .description = "Does toy things.\n",
          .flags = {{.name = "--config",
                     .value = "FILE",
                     .help = "The configuration.",
                     .set =
                         [p](const std::string& v) {
                           p->config = v;
                           return absl::OkStatus();
                         }},
                    {.name = "--topic",
                     .value = "NAME",
                     .help = "A topic to read; repeat it for several. This help is long enough "
                             "to be wrapped at the hundredth column of the terminal, under itself.",
                     .set =
                         [p](const std::string& v) {
                           if (v.empty()) return absl::InvalidArgumentError("must not be empty");
                           p->topics.push_back(v);
                           return absl::OkStatus();
                         }},
                    {.name = "--quiet",
                     .help = "Say less.",
                     .set =
                         [p](const std::string&) {
                           p->quiet = true;
                           return absl::OkStatus();
                         }}},
          .operand = [p](const std::string& f) {
            p->files.push_back(f);
            return absl::OkStatus();
          }};
}

TEST(FlagsTest, HandsEachArgumentToItsFlagInOrderAndStdinIsAnOperand) {
  Parsed p;
  ASSERT_TRUE(ParseCommandLine(Table(&p), {"a.jsonl", "--topic", "x", "--quiet", "-", "--topic",
                                           "y", "--config", "c.yaml"})
                  .ok());
  EXPECT_EQ(p.config, "c.yaml");
  EXPECT_THAT(p.topics, ElementsAre("x", "y"));
  EXPECT_TRUE(p.quiet);
  EXPECT_THAT(p.files, ElementsAre("a.jsonl", "-"));
}

TEST(FlagsTest, EveryMistakeIsAUsageErrorNamingTheFlag) {
  Parsed p;
  const CommandLine table = Table(&p);
  absl::Status unknown = ParseCommandLine(table, {"--colour"});
  EXPECT_TRUE(IsUsageError(unknown));
  EXPECT_EQ(unknown.message(), "unknown option --colour");
  absl::Status missing = ParseCommandLine(table, {"--config"});
  EXPECT_TRUE(IsUsageError(missing));
  EXPECT_EQ(missing.message(), "--config needs FILE");
  absl::Status refused = ParseCommandLine(table, {"--topic", ""});
  EXPECT_TRUE(IsUsageError(refused));
  EXPECT_EQ(refused.message(), "--topic: must not be empty");
  CommandLine no_operands = table;
  no_operands.operand = nullptr;
  EXPECT_EQ(ParseCommandLine(no_operands, {"stray"}).message(), "unexpected argument stray");
  EXPECT_FALSE(IsUsageError(absl::InvalidArgumentError("a bad file")));
}

TEST(FlagsTest, TheUsageListsEveryFlagOfTheTableWithItsValueAndWrappedHelp) {
  Parsed p;
  const std::string usage = Usage(Table(&p));
  EXPECT_THAT(usage,
              StartsWith("Usage: faultline toy FILE... [--config FILE]\n\nDoes toy things."));
  EXPECT_THAT(usage, HasSubstr("\n  --config FILE  The configuration.\n"));
  EXPECT_THAT(usage, HasSubstr("\n  --quiet        Say less.\n"));
  EXPECT_THAT(usage, HasSubstr("\n  --help         This text.\n"));
  for (absl::string_view line : absl::StrSplit(usage, '\n')) {
    EXPECT_LE(line.size(), 100u) << line;
  }
  EXPECT_THAT(usage, HasSubstr("wrapped at\n                 the hundredth column"));
}

TEST(FlagsTest, ChoicesAndDurationsAreCheckedWhereTheyAreRead) {
  std::string format = "json";
  absl::Duration every = absl::Seconds(30);
  const CommandLine table{.command = "toy",
                          .flags = {ChoiceFlag("--format", {"json", "text"}, "The form.", &format),
                                    DurationFlag("--every", "D", "How often.", &every)}};
  ASSERT_TRUE(ParseCommandLine(table, {"--format", "text", "--every", "5m"}).ok());
  EXPECT_EQ(format, "text");
  EXPECT_EQ(every, absl::Minutes(5));
  EXPECT_EQ(ParseCommandLine(table, {"--format", "xml"}).message(),
            "--format: must be json or text, got \"xml\"");
  EXPECT_EQ(ParseCommandLine(table, {"--every", "soon"}).message(),
            "--every: not a duration: soon");
  EXPECT_THAT(Usage(table), HasSubstr("  --format json|text  The form.\n"));
}

TEST(FlagsTest, HelpIsAskedForAnywhereOnTheLine) {
  EXPECT_TRUE(WantsHelp({"a.jsonl", "--help"}));
  EXPECT_TRUE(WantsHelp({"-h"}));
  EXPECT_FALSE(WantsHelp({"--config", "x"}));
}

}  // namespace
}  // namespace faultline
