// The forwarder configurations in deploy/forwarders (Winlogbeat 8, NXLog CE, Fluent Bit) collect
// exactly the events faultline's detectors subscribe to, asked of the detectors themselves
// (RegisterBuiltinDetectors, default configuration), each on the channel its provider logs to: a
// detector that starts using a new event id, or a new provider, fails here until every snippet
// collects it (a new Provider without a channel below does not even compile: -Wswitch). And every
// snippet keeps all of a host's events on one partition of the topic faultline reads.
#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "app/builtin.h"
#include "app/config.h"
#include "core/windows_events.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace faultline {
namespace {

const std::string kDir = std::string(FAULTLINE_SOURCE_DIR) + "/deploy/forwarders/";
// Windows' event query takes at most 22 clauses; Winlogbeat documents 21 in some situations.
constexpr int kMaxClauses = 21;

using ChannelIds = std::map<std::string, std::set<uint32_t>>;

// The Windows event log each provider writes to (../shared/docs/windows-events.md).
std::string ChannelOf(Provider provider) {
  switch (provider) {
    case Provider::kWas:
    case Provider::kW3svc:
    case Provider::kServiceControlManager:
      return "System";
    case Provider::kApplicationError:
    case Provider::kWindowsErrorReporting:
    case Provider::kDotNetRuntime:
    case Provider::kAspNet:
    case Provider::kIisWorkerProcess:
    case Provider::kImap4:
      return "Application";
    case Provider::kOther:
      return "";
  }
  return "";
}

ChannelIds WantedByFaultline() {
  DetectorRegistry registry;
  RegisterBuiltinDetectors(registry);
  absl::StatusOr<std::vector<std::unique_ptr<Detector>>> detectors =
      registry.CreateAll(DetectConfig{});
  EXPECT_TRUE(detectors.ok()) << detectors.status();
  ChannelIds wanted;
  if (!detectors.ok()) return wanted;
  for (const auto& detector : *detectors) {
    for (const EventKey& key : detector->Subscriptions()) {
      const std::string channel = ChannelOf(key.provider);
      if (channel.empty()) {
        ADD_FAILURE() << detector->name() << " subscribes to event " << key.event_id
                      << " of no known provider";
        continue;
      }
      wanted[channel].insert(key.event_id);
    }
  }
  return wanted;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Ids(const std::set<uint32_t>& ids) { return absl::StrJoin(ids, ", "); }

// Compares what a snippet collects with what faultline wants, channel by channel, naming the ids.
void ExpectCollectsExactly(const ChannelIds& collected, const std::string& snippet) {
  const ChannelIds wanted = WantedByFaultline();
  ASSERT_FALSE(wanted.empty());
  std::set<std::string> channels;
  for (const auto& [channel, ids] : wanted) channels.insert(channel);
  for (const auto& [channel, ids] : collected) channels.insert(channel);
  for (const std::string& channel : channels) {
    const auto w = wanted.find(channel);
    const auto c = collected.find(channel);
    std::set<uint32_t> missing, extra;
    for (uint32_t id : w == wanted.end() ? std::set<uint32_t>{} : w->second) {
      if (c == collected.end() || c->second.count(id) == 0) missing.insert(id);
    }
    for (uint32_t id : c == collected.end() ? std::set<uint32_t>{} : c->second) {
      if (w == wanted.end() || w->second.count(id) == 0) extra.insert(id);
    }
    EXPECT_TRUE(missing.empty()) << snippet << " does not collect " << channel
                                 << " events faultline subscribes to: " << Ids(missing);
    EXPECT_TRUE(extra.empty()) << snippet << " collects " << channel
                               << " events no detector of faultline uses: " << Ids(extra);
  }
}

// The event ids of an XPath query of the form Windows' event log takes, as the snippets write it:
// *[System[(EventID=N or (EventID>=A and EventID<=B) or ...)]]. Anything else is an error, so
// the test never misreads a query.
bool ParseEventQuery(const std::string& xpath, std::set<uint32_t>* ids, int* clauses,
                     std::string* error) {
  static const std::regex kWrapper(R"(^\s*\*\[System\[\((.*)\)\]\]\s*$)");
  static const std::regex kOne(R"(^EventID\s*=\s*(\d+)$)");
  static const std::regex kRange(
      R"(^\(\s*EventID\s*>=\s*(\d+)\s+and\s+EventID\s*<=\s*(\d+)\s*\)$)");
  static const std::regex kOr(R"(\s+or\s+)");
  const std::string& text = xpath;
  std::smatch m;
  if (!std::regex_match(text, m, kWrapper)) {
    *error = "not *[System[(...)]]: " + text;
    return false;
  }
  const std::string body = m[1];
  for (std::sregex_token_iterator it(body.begin(), body.end(), kOr, -1), end; it != end; ++it) {
    const std::string clause(absl::StripAsciiWhitespace(it->str()));
    std::smatch c;
    uint32_t a = 0, b = 0;
    if (std::regex_match(clause, c, kOne) && absl::SimpleAtoi(c[1].str(), &a)) {
      ids->insert(a);
    } else if (std::regex_match(clause, c, kRange) && absl::SimpleAtoi(c[1].str(), &a) &&
               absl::SimpleAtoi(c[2].str(), &b) && a <= b) {
      for (uint32_t id = a; id <= b; ++id) ids->insert(id);
    } else {
      *error = "clause not understood: " + clause;
      return false;
    }
    ++*clauses;
  }
  return true;
}

// Winlogbeat's event_id option: "4624, 4700-4800" (exclusions such as -4735 are not used here).
bool ParseWinlogbeatIds(const std::string& list, std::set<uint32_t>* ids, int* clauses,
                        std::string* error) {
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    std::vector<absl::string_view> range = absl::StrSplit(item, absl::MaxSplits('-', 1));
    uint32_t a = 0, b = 0;
    if (range.size() == 1 && absl::SimpleAtoi(range[0], &a)) {
      ids->insert(a);
    } else if (range.size() == 2 && !range[0].empty() && absl::SimpleAtoi(range[0], &a) &&
               absl::SimpleAtoi(range[1], &b) && a <= b) {
      for (uint32_t id = a; id <= b; ++id) ids->insert(id);
    } else {
      *error = absl::StrCat("event_id item not understood: \"", item, "\"");
      return false;
    }
    ++*clauses;
  }
  return true;
}

std::vector<std::string> FaultlineTopics() {
  absl::StatusOr<Config> config =
      LoadConfigFile(std::string(FAULTLINE_SOURCE_DIR) + "/deploy/faultline.example.yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return {};
  EXPECT_TRUE(config->problems.empty()) << config->problems.ToStatus("");
  return config->kafka.topics;
}

// The first non-null node of the given spellings (Beats accepts "a.b: x" and "a: {b: x}").
YAML::Node Either(const YAML::Node& root, const std::string& dotted) {
  if (root[dotted]) return root[dotted];
  const size_t dot = dotted.find('.');
  if (dot == std::string::npos || !root[dotted.substr(0, dot)])
    return YAML::Node(YAML::NodeType::Undefined);
  return Either(root[dotted.substr(0, dot)], dotted.substr(dot + 1));
}

TEST(ForwarderSnippetsTest, FaultlineWantsEventsOfBothLogs) {
  const ChannelIds wanted = WantedByFaultline();
  EXPECT_GT(wanted.count("System"), 0u);
  EXPECT_GT(wanted.count("Application"), 0u);
  EXPECT_GT(wanted.at("System").count(kWasAppPoolDisabled), 0u);
  EXPECT_GT(wanted.at("Application").count(kApplicationErrorFaultingApp), 0u);
}

TEST(WinlogbeatSnippetTest, CollectsExactlyTheEventsFaultlineSubscribesTo) {
  const YAML::Node root = YAML::LoadFile(kDir + "winlogbeat.yml");
  const YAML::Node logs = Either(root, "winlogbeat.event_logs");
  ASSERT_TRUE(logs.IsSequence());
  ChannelIds collected;
  for (const YAML::Node& log : logs) {
    const std::string name = log["name"].as<std::string>();
    ASSERT_TRUE(log["event_id"]) << name << ": no event_id filter, so it sends the whole log";
    int clauses = 0;
    std::string error;
    EXPECT_TRUE(
        ParseWinlogbeatIds(log["event_id"].as<std::string>(), &collected[name], &clauses, &error))
        << name << ": " << error;
    EXPECT_LE(clauses, kMaxClauses) << name << ": too many event_id clauses for Windows";
    EXPECT_FALSE(log["processors"]) << name << ": processors could drop events; not checked here";
  }
  ExpectCollectsExactly(collected, "winlogbeat.yml");
}

TEST(WinlogbeatSnippetTest, KeysEveryMessageByTheHostThatLoggedIt) {
  const YAML::Node root = YAML::LoadFile(kDir + "winlogbeat.yml");
  const YAML::Node kafka = Either(root, "output.kafka");
  ASSERT_TRUE(kafka.IsMap());
  // faultline reads a Winlogbeat event's host from winlog.computer_name.
  EXPECT_EQ(kafka["key"].as<std::string>(""), "%{[winlog.computer_name]}");
  EXPECT_FALSE(Either(kafka, "partition.random")) << "random partitions split a host";
  EXPECT_FALSE(Either(kafka, "partition.round_robin")) << "round robin splits a host";
  const YAML::Node hash = Either(kafka, "partition.hash");
  if (hash) {
    EXPECT_FALSE(hash["reachable_only"].as<bool>(false));
  }
  const std::vector<std::string> topics = FaultlineTopics();
  EXPECT_NE(std::find(topics.begin(), topics.end(), kafka["topic"].as<std::string>("")),
            topics.end());
  EXPECT_LE(kafka["max_message_bytes"].as<size_t>(1000000), IngestConfig{}.max_message_bytes)
      << "faultline rejects larger messages as too_large";
}

struct NxlogBlock {
  std::string kind, name;
  std::map<std::string, std::string> directives;  // lower-case name -> value, %DEFINES% expanded
  std::string query_xml;
};

struct NxlogConf {
  std::map<std::string, std::string> defines, globals;
  std::vector<NxlogBlock> blocks;

  const NxlogBlock* Find(const std::string& kind, const std::string& module) const {
    for (const NxlogBlock& b : blocks) {
      const auto it = b.directives.find("module");
      if (b.kind == kind && it != b.directives.end() &&
          absl::AsciiStrToLower(it->second) == module) {
        return &b;
      }
    }
    return nullptr;
  }
};

// Enough of nxlog.conf's syntax for the snippet: define, global directives, <Kind name> blocks
// with directives, and a <QueryXML> block kept as text.
NxlogConf ParseNxlog(const std::string& text) {
  NxlogConf conf;
  static const std::regex kOpen(R"(^<(\w+)\s+([^>]+)>$)");
  static const std::regex kClose(R"(^</(\w+)>$)");
  NxlogBlock* block = nullptr;
  bool in_query = false;
  auto expand = [&conf](std::string value) {
    for (const auto& [name, v] : conf.defines) {
      value = std::regex_replace(value, std::regex("%" + name + "%"), v);
    }
    return value;
  };
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::string l(absl::StripAsciiWhitespace(line));
    if (in_query) {
      if (absl::EqualsIgnoreCase(l, "</QueryXML>")) {
        in_query = false;
      } else {
        block->query_xml += l + "\n";
      }
      continue;
    }
    if (l.empty() || l[0] == '#') continue;
    std::smatch m;
    if (block != nullptr && absl::EqualsIgnoreCase(l, "<QueryXML>")) {
      in_query = true;
    } else if (std::regex_match(l, m, kOpen)) {
      conf.blocks.push_back({.kind = m[1], .name = m[2]});
      block = &conf.blocks.back();
    } else if (std::regex_match(l, m, kClose)) {
      block = nullptr;
    } else {
      std::vector<std::string> kv =
          absl::StrSplit(l, absl::MaxSplits(absl::ByAnyChar(" \t"), 1), absl::SkipEmpty());
      const std::string key = absl::AsciiStrToLower(kv[0]);
      const std::string value(kv.size() > 1 ? absl::StripAsciiWhitespace(kv[1]) : "");
      if (block == nullptr && key == "define") {
        std::vector<std::string> nv = absl::StrSplit(value, absl::MaxSplits(' ', 1));
        conf.defines[nv[0]] = nv.size() > 1 ? std::string(absl::StripAsciiWhitespace(nv[1])) : "";
      } else if (block == nullptr) {
        conf.globals[key] = expand(value);
      } else {
        block->directives[key] = expand(value);
      }
    }
  }
  return conf;
}

std::string XmlUnescape(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&gt;", ">"}, {"&lt;", "<"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}}) {
    s = std::regex_replace(s, std::regex(from), to);
  }
  return s;
}

TEST(NxlogSnippetTest, CollectsExactlyTheEventsFaultlineSubscribesTo) {
  const NxlogConf conf = ParseNxlog(ReadFile(kDir + "nxlog.conf"));
  const NxlogBlock* input = conf.Find("Input", "im_msvistalog");
  ASSERT_NE(input, nullptr) << "no im_msvistalog input";
  ASSERT_FALSE(input->query_xml.empty()) << "no QueryXML: it would send the whole of every log";
  EXPECT_EQ(input->query_xml.find("<Suppress"), std::string::npos) << "Suppress not checked here";
  static const std::regex kSelect(R"re(<Select\s+Path="([^"]+)">([^<]*)</Select>)re");
  ChannelIds collected;
  for (std::sregex_iterator it(input->query_xml.begin(), input->query_xml.end(), kSelect), end;
       it != end; ++it) {
    int clauses = 0;
    std::string error;
    const std::string channel = (*it)[1];
    EXPECT_TRUE(ParseEventQuery(XmlUnescape((*it)[2]), &collected[channel], &clauses, &error))
        << channel << ": " << error;
    EXPECT_LE(clauses, kMaxClauses) << channel << ": too many clauses for Windows";
  }
  ExpectCollectsExactly(collected, "nxlog.conf");
}

TEST(NxlogSnippetTest, PinsEachHostToOnePartitionOfTheTopicFaultlineReads) {
  const NxlogConf conf = ParseNxlog(ReadFile(kDir + "nxlog.conf"));
  const NxlogBlock* input = conf.Find("Input", "im_msvistalog");
  const NxlogBlock* output = conf.Find("Output", "om_kafka");
  ASSERT_NE(input, nullptr);
  ASSERT_NE(output, nullptr) << "no om_kafka output";
  // om_kafka sends no message key: without a fixed partition, librdkafka spreads a host's
  // events over every partition.
  int partition = -1;
  ASSERT_TRUE(output->directives.count("partition"))
      << "no Partition: a host's events would scatter";
  EXPECT_TRUE(absl::SimpleAtoi(output->directives.at("partition"), &partition) && partition >= 0)
      << "Partition is not a partition number: " << output->directives.at("partition");
  const std::vector<std::string> topics = FaultlineTopics();
  EXPECT_NE(std::find(topics.begin(), topics.end(), output->directives.at("topic")), topics.end());
  EXPECT_NE(output->directives.count("exec") ? output->directives.at("exec").find("to_json()")
                                             : std::string::npos,
            std::string::npos)
      << "the output must write each event as NXLog JSON";
  bool routed = false;
  for (const NxlogBlock& b : conf.blocks) {
    if (b.kind != "Route" || !b.directives.count("path")) continue;
    std::vector<std::string> ends = absl::StrSplit(b.directives.at("path"), "=>");
    if (ends.size() != 2) continue;
    std::vector<std::string> from =
        absl::StrSplit(ends[0], absl::ByAnyChar(", "), absl::SkipEmpty());
    std::vector<std::string> to = absl::StrSplit(ends[1], absl::ByAnyChar(", "), absl::SkipEmpty());
    routed |= std::find(from.begin(), from.end(), input->name) != from.end() &&
              std::find(to.begin(), to.end(), output->name) != to.end();
  }
  EXPECT_TRUE(routed) << "no Route from " << input->name << " to " << output->name;
}

TEST(NxlogSnippetTest, WritesTimesInUtcAsFaultlineReadsZonelessTimes) {
  const NxlogConf conf = ParseNxlog(ReadFile(kDir + "nxlog.conf"));
  const auto utc = conf.globals.find("generatedateinutc");
  ASSERT_NE(utc, conf.globals.end()) << "no GenerateDateInUTC";
  EXPECT_TRUE(absl::EqualsIgnoreCase(utc->second, "TRUE"));
  EXPECT_EQ(IngestConfig{}.envelope.local_time_zone, absl::UTCTimeZone())
      << "faultline's default ingest.local_time_zone changed: revisit GenerateDateInUTC";
}

TEST(FluentBitSnippetTest, CollectsExactlyTheEventsFaultlineSubscribesTo) {
  const YAML::Node root = YAML::LoadFile(kDir + "fluent-bit.yaml");
  const YAML::Node inputs = root["pipeline"]["inputs"];
  ASSERT_TRUE(inputs.IsSequence());
  ChannelIds collected;
  for (const YAML::Node& input : inputs) {
    if (input["name"].as<std::string>("") != "winevtlog") continue;
    ASSERT_TRUE(input["event_query"]) << "no event_query: it would send the whole of every log";
    EXPECT_TRUE(input["string_inserts"].as<bool>(true)) << "faultline needs StringInserts";
    std::set<uint32_t> ids;
    int clauses = 0;
    std::string error;
    EXPECT_TRUE(ParseEventQuery(input["event_query"].as<std::string>(), &ids, &clauses, &error))
        << error;
    EXPECT_LE(clauses, kMaxClauses) << "too many clauses for Windows";
    for (absl::string_view channel : absl::StrSplit(input["channels"].as<std::string>(""), ',')) {
      collected[std::string(absl::StripAsciiWhitespace(channel))].insert(ids.begin(), ids.end());
    }
  }
  ExpectCollectsExactly(collected, "fluent-bit.yaml");
}

TEST(FluentBitSnippetTest, KeysEveryMessageByTheHostThatLoggedIt) {
  const YAML::Node root = YAML::LoadFile(kDir + "fluent-bit.yaml");
  std::vector<std::string> tags;
  for (const YAML::Node& input : root["pipeline"]["inputs"]) {
    if (input["name"].as<std::string>("") == "winevtlog")
      tags.push_back(input["tag"].as<std::string>(""));
  }
  ASSERT_FALSE(tags.empty());
  const std::vector<std::string> topics = FaultlineTopics();
  for (const std::string& tag : tags) {
    int outputs = 0;
    for (const YAML::Node& output : root["pipeline"]["outputs"]) {
      const std::string match = output["match"].as<std::string>("");
      if (fnmatch(match.c_str(), tag.c_str(), 0) != 0) continue;
      ++outputs;
      EXPECT_EQ(output["name"].as<std::string>(""), "kafka") << tag << " goes elsewhere too";
      // faultline reads an in_winevtlog event's host from Computer.
      EXPECT_EQ(output["message_key_field"].as<std::string>(""), "Computer");
      EXPECT_EQ(output["format"].as<std::string>("json"), "json");
      EXPECT_NE(std::find(topics.begin(), topics.end(), output["topics"].as<std::string>("")),
                topics.end());
    }
    EXPECT_EQ(outputs, 1) << tag << " must reach exactly one output, the Kafka one";
  }
}

}  // namespace
}  // namespace faultline
