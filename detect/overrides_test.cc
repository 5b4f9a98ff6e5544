#include "detect/overrides.h"

#include "core/testing/read_settings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

// A detector's overridable settings, declared once.
struct Limits {
  int count = 3;
  absl::Duration window = absl::Minutes(5);
  std::string url;

  static const settings::Schema<Limits>& Schema() {
    static const auto* schema =
        &(*new settings::Schema<Limits>("limits"))
             .Integer("count", &Limits::count, 1, 100, "How many.")
             .Duration("window", &Limits::window, settings::Bound::kPositive, "How long.")
             .Secret("url", &Limits::url, "Where.");
    return *schema;
  }
};

struct Section {
  Limits limits;
  std::vector<settings::Override<Limits, 2>> overrides;

  static const settings::Schema<Section>& Schema() {
    static const auto* schema =
        &(*new settings::Schema<Section>("section"))
             .Inline(&Section::limits, Limits::Schema())
             .Overrides("overrides", &Section::overrides,
                        {{{"host", "Host pattern."}, {"pool", "Pool pattern."}}}, Limits::Schema(),
                        "Per host and pool.");
    return *schema;
  }
};

TEST(PatternOverridesTest, TheFirstMatchWinsAndWhatItDoesNotSayKeepsTheSections) {
  auto section = testing::ReadSettings(Section::Schema(), R"(
count: 4
window: 10m
url: https://section.example/x
overrides:
  - {pool: "MSExchange*", count: 10}
  - {host: "LAB*", window: 1m, url_env: HOME}
  - {host: "LAB1", count: 99}
)",
                                       "detect.toy");
  ASSERT_TRUE(section.ok()) << section.status();
  const PatternOverrides<Limits, 2> limits(section->limits, section->overrides, Limits::Schema());
  const Limits& exchange = limits.For({"WEB1", "MSExchangeOWAAppPool"});
  EXPECT_EQ(exchange.count, 10);
  EXPECT_EQ(exchange.window, absl::Minutes(10)) << "not overridden: the section's";
  EXPECT_EQ(exchange.url, "https://section.example/x");
  const Limits& lab = limits.For({"lab1", "DefaultAppPool"});  // globs ignore case
  EXPECT_EQ(lab.count, 4) << "the second entry matched first; the third never applies to LAB1";
  EXPECT_EQ(lab.window, absl::Minutes(1));
  EXPECT_EQ(lab.url, std::getenv("HOME")) << "a secret given as url_env overrides url";
  const Limits& other = limits.For({"WEB1", "DefaultAppPool"});
  EXPECT_EQ(other.count, 4);
  EXPECT_EQ(other.window, absl::Minutes(10));
}

TEST(PatternOverridesTest, AnOverrideMustSaySomethingAndKnowsOnlyItsKeys) {
  auto section = testing::ReadSettings(Section::Schema(), R"(
overrides:
  - {host: "WEB*"}
  - {pool: "x", colour: red}
  - {host: "[abc]", count: 2}
  - ~
)",
                                       "detect.toy");
  ASSERT_FALSE(section.ok());
  const std::string m(section.status().message());
  EXPECT_THAT(m, HasSubstr("3:5: detect.toy.overrides[0].host: the override sets none of count, "
                           "window, url"));
  EXPECT_THAT(m, HasSubstr("detect.toy.overrides[1].colour: unknown key (known: host, pool, "
                           "count, window, url"));
  EXPECT_THAT(m, HasSubstr("detect.toy.overrides[2].host: must be a name or a pattern"));
  EXPECT_THAT(m, HasSubstr("detect.toy.overrides[3]: must be a mapping"));
}

}  // namespace
}  // namespace faultline
