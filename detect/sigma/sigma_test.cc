#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/alert.h"
#include "detect/alert_builder.h"
#include "detect/sigma/matcher.h"
#include "detect/sigma/rules.h"
#include "detect/sigma/sigma_detector.h"
#include "detect/testing/harness.h"
#include "gtest/gtest.h"

namespace faultline::sigma {
namespace {

constexpr char kSysmon[] = "Microsoft-Windows-Sysmon/Operational";

// A process_creation rule around one selection (YAML, indented under `detection:`).
std::string ProcessRule(const std::string& detection, const std::string& title = "t") {
  return absl::StrCat("title: ", title,
                      "\nid: 11111111-1111-1111-1111-111111111111\nlevel: high\n"
                      "logsource:\n  product: windows\n  category: process_creation\n"
                      "detection:\n",
                      detection);
}

RuleSet Load(const std::string& yaml, const LoadOptions& options = {}) {
  RuleSet set;
  LoadRuleText("test.yml", yaml, options, &set);
  FinishLoading(options, &set);
  return set;
}

Event Process(std::vector<std::pair<std::string, std::string>> data, uint32_t id = 1,
              std::string channel = kSysmon) {
  Event e;
  e.host = "WS01";
  e.channel = std::move(channel);
  e.provider_name = "Microsoft-Windows-Sysmon";
  e.event_id = id;
  e.time = absl::FromUnixSeconds(1'700'000'000);
  for (const auto& [k, v] : data) e.data.Add(k, v);
  return e;
}

// Whether the single rule of `yaml` matches `event` (the rule must load).
bool Hits(const std::string& yaml, const Event& event, const LoadOptions& options = {}) {
  RuleSet set = Load(yaml, options);
  EXPECT_EQ(set.rules.size(), 1u) << (set.skipped.empty() ? "" : set.skipped[0].reason);
  if (set.rules.size() != 1) return false;
  Matcher m(set);
  return !m.Match(event).empty();
}

std::string Skip(const std::string& yaml) {
  RuleSet set = Load(yaml);
  EXPECT_TRUE(set.rules.empty());
  return set.skipped.empty() ? "(loaded)" : set.skipped[0].reason;
}

const Event kCmd = Process({{"Image", "C:\\Windows\\System32\\cmd.exe"},
                            {"CommandLine", "cmd.exe /c whoami /priv"},
                            {"ParentImage", "C:\\Windows\\explorer.exe"},
                            {"User", "CORP\\alice"},
                            {"SourceIp", "10.1.2.3"},
                            {"DestinationIp", "fe80::1"},
                            {"Count", "12"},
                            {"ParentUser", "CORP\\alice"}});

TEST(SigmaMatchTest, PlainValuesAreCaseInsensitiveWithWildcardsAndEscapes) {
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    Image: 'c:\\windows\\system32\\CMD.EXE'\n  condition: sel\n"),
           kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  sel:\n    Image: '*\\cmd.exe'\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    CommandLine: 'cmd.exe /? whoami*'\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  sel:\n    CommandLine: '*who*priv'\n  condition: sel\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  sel:\n    Image: 'cmd.exe'\n  condition: sel\n"), kCmd));
  // An escaped star is a star, not a wildcard.
  EXPECT_FALSE(
      Hits(ProcessRule("  sel:\n    CommandLine: 'cmd.exe\\*'\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  sel:\n    CommandLine: 'a\\*b'\n  condition: sel\n"),
                   Process({{"CommandLine", "a*b"}})));
  // |cased keeps case.
  EXPECT_FALSE(
      Hits(ProcessRule("  sel:\n    Image|endswith|cased: '\\CMD.EXE'\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    Image|endswith|cased: '\\cmd.exe'\n  condition: sel\n"), kCmd));
}

TEST(SigmaMatchTest, ListsAreAnyOfUnlessAll) {
  EXPECT_TRUE(Hits(
      ProcessRule(
          "  sel:\n    CommandLine|contains:\n      - nothing\n      - whoami\n  condition: sel\n"),
      kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  sel:\n    CommandLine|contains|all:\n      - whoami\n      - "
                               "/priv\n  condition: sel\n"),
                   kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  sel:\n    CommandLine|contains|all:\n      - whoami\n      - "
                                "/groups\n  condition: sel\n"),
                    kCmd));
  // Items of one map all hold; maps of a list are alternatives.
  EXPECT_FALSE(Hits(
      ProcessRule("  sel:\n    Image|endswith: cmd.exe\n    User: bob\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(Hits(
      ProcessRule(
          "  sel:\n    - Image|endswith: nope.exe\n    - User|endswith: alice\n  condition: sel\n"),
      kCmd));
}

TEST(SigmaMatchTest, RegexWithSubModifiers) {
  EXPECT_TRUE(Hits(
      ProcessRule("  sel:\n    CommandLine|re: 'whoami\\s+/priv$'\n  condition: sel\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  sel:\n    CommandLine|re: 'WHOAMI'\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    CommandLine|re|i: 'WHOAMI'\n  condition: sel\n"), kCmd));
  // PCRE's lookahead (Sigma's dialect) works.
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    CommandLine|re: 'cmd(?=\\.exe)'\n  condition: sel\n"), kCmd));
  EXPECT_NE(Skip(ProcessRule("  sel:\n    CommandLine|re: '(unclosed'\n  condition: sel\n"))
                .find("does not compile"),
            std::string::npos);
}

TEST(SigmaMatchTest, WindashCidrExistsNumbersFieldref) {
  const Event dashed = Process({{"CommandLine",
                                 "tool.exe \xE2\x80\x93"
                                 "enc AAAA"}});
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel\n"),
           dashed));
  EXPECT_TRUE(Hits(
      ProcessRule("  sel:\n    CommandLine|windash|contains: ' -c '\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  sel:\n    SourceIp|cidr: 10.0.0.0/8\n  condition: sel\n"), kCmd));
  EXPECT_FALSE(
      Hits(ProcessRule("  sel:\n    SourceIp|cidr: 192.168.0.0/16\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    DestinationIp|cidr: 'fe80::/10'\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(Hits(
      ProcessRule("  sel:\n    User|exists: true\n    Missing|exists: false\n  condition: sel\n"),
      kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  sel:\n    Missing|exists: true\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    Count|gt: 10\n    Count|lte: 12\n  condition: sel\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  sel:\n    Count|lt: 12\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  sel:\n    User|fieldref: ParentUser\n  condition: sel\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  sel:\n    User|fieldref: Image\n  condition: sel\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  sel:\n    Missing: null\n  condition: sel\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  sel:\n    User: null\n  condition: sel\n"), kCmd));
}

TEST(SigmaMatchTest, Base64OffsetAndUtf16AsSigmaDefinesThem) {
  // The specification's example: 'http://' at the three offsets.
  for (const char* encoded : {"x aHR0cDovL x", "x h0dHA6Ly x", "x odHRwOi8v x"}) {
    EXPECT_TRUE(Hits(
        ProcessRule("  sel:\n    CommandLine|base64offset|contains: 'http://'\n  condition: sel\n"),
        Process({{"CommandLine", encoded}})))
        << encoded;
  }
  // PowerShell -EncodedCommand is base64 of UTF-16LE: "iex" is aQBlAHgA.
  EXPECT_TRUE(Hits(
      ProcessRule("  sel:\n    CommandLine|wide|base64offset|contains: 'iex'\n  condition: sel\n"),
      Process({{"CommandLine", "powershell -enc aQBlAHgAIAAoAA=="}})));
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    CommandLine|base64|contains: 'whoami'\n  condition: sel\n"),
           Process({{"CommandLine", "echo d2hvYW1p | base64 -d"}})));
  // Base64 is case-sensitive.
  EXPECT_FALSE(
      Hits(ProcessRule("  sel:\n    CommandLine|base64|contains: 'whoami'\n  condition: sel\n"),
           Process({{"CommandLine", "echo D2HVYW1P"}})));
}

TEST(SigmaMatchTest, ExpandTakesConfiguredPlaceholders) {
  LoadOptions options;
  options.placeholders["Admins"] = {"CORP\\alice", "CORP\\root"};
  EXPECT_TRUE(
      Hits(ProcessRule("  sel:\n    User|expand: '%Admins%'\n  condition: sel\n"), kCmd, options));
  EXPECT_NE(
      Skip(ProcessRule("  sel:\n    User|expand: '%Nobody%'\n  condition: sel\n")).find("%Nobody%"),
      std::string::npos);
}

TEST(SigmaMatchTest, ConditionsAndKeywords) {
  const std::string sels =
      "  sel_a:\n    Image|endswith: cmd.exe\n  sel_b:\n    User|endswith: bob\n"
      "  _helper:\n    Image|endswith: nothing.exe\n  filter:\n    ParentImage|endswith: "
      "explorer.exe\n";
  EXPECT_TRUE(Hits(ProcessRule(sels + "  condition: sel_a and not sel_b\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule(sels + "  condition: sel_a and not filter\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule(sels + "  condition: 1 of sel_* and (filter or sel_b)\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule(sels + "  condition: all of sel_*\n"), kCmd));
  // "them" leaves out identifiers that start with '_'.
  EXPECT_FALSE(Hits(ProcessRule(sels + "  condition: all of them\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule(sels + "  condition: 2 of them\n"), kCmd));
  // A list of conditions is their `or`.
  EXPECT_TRUE(Hits(ProcessRule(sels + "  condition:\n    - sel_b\n    - sel_a\n"), kCmd));
  EXPECT_TRUE(
      Hits(ProcessRule("  keywords:\n    - '*WHOAMI /PRIV*'\n  condition: keywords\n"), kCmd));
  EXPECT_FALSE(Hits(ProcessRule("  keywords:\n    - 'mimikatz'\n  condition: keywords\n"), kCmd));
}

TEST(SigmaMatchTest, KeywordsAreSearchedInsideValuesAndDataStandsForUnnamedItems) {
  // A keyword is found anywhere in a value, as every backend's full-text search finds it.
  EXPECT_TRUE(
      Hits(ProcessRule("  keywords:\n    - 'WHOAMI /PRIV'\n  condition: keywords\n"), kCmd));
  EXPECT_TRUE(Hits(ProcessRule("  keywords:\n    '|all':\n      - whoami\n      - explorer\n"
                               "  condition: keywords\n"),
                   kCmd));
  // Classic PowerShell 400: its items have no names (param1..N); rules read them as Data.
  const std::string classic =
      "title: downgrade\nlogsource:\n  product: windows\n  category: ps_classic_start\n"
      "detection:\n  sel:\n    Data|contains: 'EngineVersion=2.'\n  condition: sel\n";
  Event ps =
      Process({{"param1", "Available"},
               {"param2", "None"},
               {"param3", "NewEngineState=Available\n\tHostVersion=5.1\n\tEngineVersion=2.0"}},
              400, "Windows PowerShell");
  EXPECT_TRUE(Hits(classic, ps));
  ps.data.Clear();
  ps.data.Add("param1", "EngineVersion=5.1");
  EXPECT_FALSE(Hits(classic, ps));
}

TEST(SigmaMatchTest, ThePrefilterSparesRulesWhoseLiteralsAreAbsentAndHidesNoMatch) {
  // Keywords, a glob's longest run and a contains literal gate their rules: each rule is evaluated
  // only for an event holding one of its needles (anywhere in a value, at any case; the gram it
  // is keyed on is its rarest, not its first three bytes).
  RuleSet set =
      Load(ProcessRule("  keywords:\n    - 'sekurlsa::'\n    - 'gentilkiwi.com'\n"
                       "  condition: keywords\n") +
           "---\n" + ProcessRule("  sel:\n    CommandLine: '*whoami*/priv*'\n  condition: sel\n") +
           "---\n" +
           ProcessRule("  sel:\n    ParentImage|contains: '\\explorer.exe'\n"
                       "  condition: sel\n"));
  ASSERT_EQ(set.rules.size(), 3u);
  Matcher m(set);
  EXPECT_EQ(m.Match(kCmd), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(m.evaluations(), 2u);
  EXPECT_EQ(m.spared(), 1u) << "no value holds a keyword";
  const Event mimikatz = Process({{"CommandLine", "mimikatz.exe \"SEKURLSA::LogonPasswords\""},
                                  {"ParentImage", "C:\\Tools\\x.exe"}});
  EXPECT_EQ(m.Match(mimikatz), (std::vector<uint32_t>{0}));
  EXPECT_EQ(m.evaluations(), 3u);
  EXPECT_EQ(m.spared(), 3u);
  // A needle at the very start and at the very end of a value.
  EXPECT_EQ(m.Match(Process({{"User", "gentilkiwi.com"}})), (std::vector<uint32_t>{0}));
  EXPECT_EQ(m.Match(Process({{"Image", "x sekurlsa::"}})), (std::vector<uint32_t>{0}));
  EXPECT_EQ(m.Match(Process({{"ParentImage", "\\EXPLORER.EXE"}})), (std::vector<uint32_t>{2}));
  EXPECT_TRUE(m.Match(Process({{"User", "gentilkiwi.co"}})).empty());
}

TEST(SigmaMatchTest, CasedAndAllItemsGateToo) {
  // |cased gates by its lowercase (spared when the lowercase is absent, evaluated on the case);
  // |all by its longest needle, every one of its values still checked.
  RuleSet set = Load(ProcessRule("  sel:\n    CommandLine|contains|cased: 'WhoAmI'\n"
                                 "  condition: sel\n") +
                     "---\n" +
                     ProcessRule("  sel:\n    CommandLine|contains|all:\n      - 'cmd.exe'\n"
                                 "      - 'whoami /priv'\n  condition: sel\n"));
  ASSERT_EQ(set.rules.size(), 2u);
  Matcher m(set);
  EXPECT_EQ(m.Match(kCmd), (std::vector<uint32_t>{1}));
  EXPECT_EQ(m.evaluations(), 2u) << "both needles are in the value: both evaluated";
  EXPECT_EQ(m.Match(Process({{"CommandLine", "x.exe WhoAmI /priv"}})), (std::vector<uint32_t>{0}));
  EXPECT_EQ(m.evaluations(), 4u);
  EXPECT_TRUE(m.Match(Process({{"CommandLine", "cmd.exe /c dir"}})).empty());
  EXPECT_EQ(m.evaluations(), 4u) << "neither whoami nor 'whoami /priv': both spared";
  EXPECT_EQ(m.spared(), 2u);
}

TEST(SigmaLoadTest, ARuleOnSeveralChannelsIsRoutedToEach) {
  // AppLocker's four channels (a rule's channels were once held as pointers into a map that
  // grew: ASan caught it).
  RuleSet set = Load(
      "title: applocker\nlogsource:\n  product: windows\n  service: applocker\ndetection:\n"
      "  sel:\n    EventID: 8004\n  condition: sel\n");
  ASSERT_EQ(set.rules.size(), 1u);
  ASSERT_EQ(set.rules[0].channels.size(), 4u);
  Matcher m(set);
  for (const std::string& channel : set.rules[0].channels) {
    EXPECT_EQ(m.Match(Process({}, 8004, channel)).size(), 1u) << channel;
  }
}

TEST(SigmaLoadTest, WhatCannotBeEvaluatedIsSkippedWithTheReason) {
  EXPECT_NE(Skip(ProcessRule("  sel:\n    Image|frobnicate: x\n  condition: sel\n"))
                .find("modifier 'frobnicate'"),
            std::string::npos);
  EXPECT_NE(Skip(ProcessRule("  sel:\n    Image: x\n  condition: sel | count() > 5\n"))
                .find("aggregation"),
            std::string::npos);
  EXPECT_NE(Skip(ProcessRule("  sel:\n    Image: x\n  condition: sel and other\n")).find("'other'"),
            std::string::npos);
  EXPECT_NE(Skip(ProcessRule("  sel:\n    Image: x\n  condition: (sel\n")).find("not closed"),
            std::string::npos);
  EXPECT_NE(
      Skip("title: x\nlogsource:\n  product: linux\ndetection:\n  s:\n    a: b\n  condition: s\n")
          .find("linux"),
      std::string::npos);
  EXPECT_NE(Skip("title: x\nlogsource:\n  product: windows\n  category: file_access\ndetection:\n"
                 "  s:\n    a: b\n  condition: s\n")
                .find("file_access"),
            std::string::npos);
  // Nesting that would exhaust the stack is refused, not followed.
  EXPECT_NE(Skip(ProcessRule("  sel:\n    Image: x\n  condition: " + std::string(20000, '(') +
                             "sel" + std::string(20000, ')') + "\n"))
                .find("nests deeper than"),
            std::string::npos);
  RuleSet broken = Load("title: [unclosed\n");
  ASSERT_EQ(broken.skipped.size(), 1u);
  EXPECT_NE(broken.skipped[0].reason.find("not YAML"), std::string::npos);
}

TEST(SigmaLoadTest, RoutesByChannelAndEventId) {
  RuleSet set = Load(ProcessRule("  sel:\n    Image|endswith: cmd.exe\n  condition: sel\n") +
                     "---\ntitle: logon\nlogsource:\n  product: windows\n  service: security\n"
                     "detection:\n  sel:\n    EventID:\n      - 4624\n      - 4625\n"
                     "  other:\n    LogonType: 3\n  condition: sel and not other\n");
  ASSERT_EQ(set.rules.size(), 2u);
  EXPECT_EQ(set.rules[0].channels,
            std::vector<std::string>{"microsoft-windows-sysmon/operational"});
  EXPECT_EQ(set.rules[0].event_ids, std::vector<uint32_t>{1});
  EXPECT_EQ(set.rules[1].channels, std::vector<std::string>{"security"});
  EXPECT_EQ(set.rules[1].event_ids, (std::vector<uint32_t>{4624, 4625}));
  Matcher m(set);
  // The same fields on another channel or id never meet the process_creation rule.
  EXPECT_EQ(m.Match(kCmd).size(), 1u);
  EXPECT_TRUE(m.Match(Process({{"Image", "x\\cmd.exe"}}, 1, "Security")).empty());
  EXPECT_TRUE(m.Match(Process({{"Image", "x\\cmd.exe"}}, 4688, kSysmon)).empty());
  // Channel names are compared without case.
  EXPECT_EQ(
      m.Match(Process({{"Image", "x\\cmd.exe"}}, 1, "microsoft-windows-sysmon/OPERATIONAL")).size(),
      1u);
  Event logon = Process({{"LogonType", "2"}}, 4624, "Security");
  EXPECT_EQ(m.Match(logon).size(), 1u);
  logon.event_id = 4634;
  EXPECT_TRUE(m.Match(logon).empty());
}

TEST(SigmaLoadTest, FiltersTuneARuleWithoutEditingIt) {
  const std::string rule =
      ProcessRule("  sel:\n    Image|endswith: cmd.exe\n  condition: sel\n", "Cmd");
  const std::string filter =
      "---\ntitle: Alice is fine\nlogsource:\n  product: windows\n  category: process_creation\n"
      "filter:\n  rules:\n    - 11111111-1111-1111-1111-111111111111\n"
      "  selection:\n    User: 'CORP\\alice'\n  condition: not selection\n";
  RuleSet set = Load(rule + filter);
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_EQ(set.filters, 1u);
  EXPECT_EQ(set.rules[0].filters, std::vector<std::string>{"Alice is fine"});
  Matcher m(set);
  EXPECT_TRUE(m.Match(kCmd).empty());
  EXPECT_EQ(m.Match(Process({{"Image", "x\\cmd.exe"}, {"User", "CORP\\bob"}})).size(), 1u);
  RuleSet orphan =
      Load(rule +
           "---\ntitle: f\nlogsource:\n  product: windows\n  category: process_creation\n"
           "filter:\n  rules: [nope]\n  s:\n    User: x\n  condition: not s\n");
  ASSERT_EQ(orphan.skipped.size(), 1u);
  EXPECT_NE(orphan.skipped[0].reason.find("names no loaded rule"), std::string::npos);
}

TEST(SigmaDetectorTest, FiresOncePerHostAndRuleUpdatesAndResolvesOnTheHostsTime) {
  const std::string dir =
      ::testing::TempDir() + "/sigma_detector_rules_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir + "/cmd.yml")
        << ProcessRule("  sel:\n    Image|endswith: cmd.exe\n  condition: sel\n", "Cmd shell");
  }
  SigmaConfig config;
  config.rules = {dir};
  config.quiet = absl::Minutes(10);
  DetectorContext context;
  context.renotify_interval = absl::Minutes(5);
  auto detector = SigmaDetector::Create(config, context);
  ASSERT_TRUE(detector.ok()) << detector.status();
  ASSERT_NE(*detector, nullptr);
  DetectorHarness h(*std::move(detector));
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  Event e = kCmd;
  e.time = t0;
  e.record_id = 1;
  h.Feed(e);
  e.record_id = 2;
  e.time = t0 + absl::Minutes(1);
  h.Feed(e);  // within the re-notify interval: no update
  Event other = kCmd;
  other.host = "WS02";
  other.time = t0 + absl::Minutes(1);
  other.record_id = 3;
  h.Feed(other);
  e.record_id = 4;
  e.time = t0 + absl::Minutes(6);
  h.Feed(e);  // an update: the count grew and 5 minutes passed
  EXPECT_EQ(h.Log(),
            (std::vector<std::string>{"sigma/11111111-1111-1111-1111-111111111111 firing",
                                      "sigma/11111111-1111-1111-1111-111111111111 firing",
                                      "sigma/11111111-1111-1111-1111-111111111111 firing"}));
  EXPECT_EQ(h.alerts()[0].host(), "WS01");
  EXPECT_EQ(h.alerts()[1].host(), "WS02");
  EXPECT_EQ(h.alerts()[2].count(), 3u);
  EXPECT_EQ(h.alerts()[0].fingerprint(), h.alerts()[2].fingerprint());
  // Receivers deduplicate on the fingerprint, also across an upgrade: its input (host, then the
  // rule's id and title, unseparated) stays these bytes.
  const std::string key =
      "WS01\x1f"
      "11111111-1111-1111-1111-111111111111Cmd shell";
  EXPECT_EQ(h.alerts()[0].fingerprint(),
            StableId({"sigma/11111111-1111-1111-1111-111111111111", key, TimeText(t0)}));
  EXPECT_EQ(h.alerts()[0].incident_id(), StableId({key, TimeText(t0)}));
  EXPECT_EQ(h.alerts()[0].severity(), "critical");
  EXPECT_EQ(h.alerts()[0].labels().at("sigma_title"), "Cmd shell");
  ASSERT_GE(h.alerts()[0].evidence_size(), 1);
  EXPECT_NE(h.alerts()[0].evidence(0).detail().find("Image=C:\\Windows\\System32\\cmd.exe"),
            std::string::npos);
  // WS01 goes quiet for 10 minutes of its own time: resolved; WS02 (silent) follows the arrival
  // clock.
  Event later = Process({{"Image", "notepad.exe"}});
  later.time = t0 + absl::Minutes(30);
  later.record_id = 9;
  h.Feed(later);
  h.Advance(t0 + absl::Minutes(31), "WS01", kSysmon);
  std::vector<std::string> resolved;
  for (const Alert& a : h.alerts()) {
    if (a.status() == "resolved") resolved.push_back(a.host());
  }
  std::sort(resolved.begin(), resolved.end());
  EXPECT_EQ(resolved, (std::vector<std::string>{"WS01", "WS02"}));
}

TEST(SigmaDetectorTest, NoRulesMeansNoDetectorAndAMissingPathIsAConfigurationError) {
  SigmaConfig config;
  auto none = SigmaDetector::Create(config, DetectorContext{});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
  config.rules = {"/nonexistent/sigma"};
  auto missing = SigmaDetector::Create(config, DetectorContext{});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/sigma"), std::string_view::npos);
}

}  // namespace
}  // namespace faultline::sigma
