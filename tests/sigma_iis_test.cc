// deploy/sigma/iis_rapid_fail.yml (the IIS rules in Sigma) raises the incidents the native IIS
// detector raises, on two 200-host fleet streams (tests/fleet_stream.h: lagging, backlogged and
// mis-clocked hosts, redeliveries, late events): one `faultline replay` runs both, and each
// incident's first alert from one has its counterpart from the other, by rule, host and pool.
#include <unistd.h>

#include <fstream>
#include <map>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/testing/child_process.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/fleet_check.h"
#include "tests/fleet_stream.h"

namespace faultline {
namespace {

using Key = std::tuple<std::string, std::string, std::string>;  // rule, host, pool

TEST(SigmaIisTest, TheSigmaRulesRaiseTheNativeDetectorsIncidents) {
  // Two fleets' days, one after the other (different seeds and domains): 400 hosts.
  const absl::Time end = absl::FromUnixSeconds(1'790'000'000);
  const std::vector<testing::FleetStream> fleets = {
      testing::MakeFleetStream(end, /*seed=*/9, "a.contoso.local"),
      testing::MakeFleetStream(end + absl::Hours(30), /*seed=*/10, "b.contoso.local")};
  const std::string base = absl::StrCat(::testing::TempDir(), "/sigma_iis.", getpid());
  size_t events = 0;
  {
    std::ofstream out(base + ".jsonl");
    for (const testing::FleetStream& fleet : fleets) {
      for (const auto& line : fleet.lines) out << line.value << '\n';
      events += fleet.lines.size();
    }
    std::ofstream config(base + ".yml");
    config << "detect:\n  sigma:\n    rules: [" << FAULTLINE_SOURCE_DIR << "/deploy/sigma]\n";
  }
  testing::ChildProcess child(
      {std::string(FAULTLINE_BINARY_DIR) + "/faultline", "replay", base + ".jsonl", "--config",
       base + ".yml", "--format", "json", "--quiet"},
      {}, base + ".stderr");
  const std::string alerts = child.ReadAll(absl::Seconds(300));
  ASSERT_EQ(child.Wait(absl::Seconds(60)), 0) << testing::ReadAll(base + ".stderr");

  std::map<Key, int> native, sigma;
  simdjson::dom::parser parser;
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(alerts, '\n', absl::SkipEmpty())) {
    ++lines;
    simdjson::dom::element a;
    ASSERT_EQ(parser.parse(line.data(), line.size()).get(a), simdjson::SUCCESS);
    auto text = [](simdjson::simdjson_result<simdjson::dom::element> e) {
      std::string_view v;
      return e.get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
    };
    uint64_t sequence = 0;
    if (a["sequence"].get_uint64().get(sequence) != simdjson::SUCCESS || sequence != 1) continue;
    const std::string rule = text(a["rule"]);
    const std::string host = text(a["host"]);
    if (rule.rfind("sigma/", 0) == 0) {
      const std::string group = text(a["labels"]["sigma_group"]);
      const std::string pool = group.substr(group.find('=') + 1);  // "AppPoolID=X"
      ++sigma[{text(a["labels"]["sigma_name"]), host, absl::AsciiStrToLower(pool)}];
    } else if (rule.rfind("iis_", 0) == 0) {
      ++native[{rule, host, absl::AsciiStrToLower(text(a["app_pool"]))}];
    }
  }
  size_t native_total = 0;
  for (const auto& [k, n] : native) native_total += static_cast<size_t>(n);
  std::printf("%zu events, %zu alerts; native IIS incidents: %zu; from the Sigma rules: %zu\n",
              events, lines, native_total, sigma.size());
  EXPECT_GE(native_total, 40u);
  for (const auto& [k, n] : native) {
    const auto it = sigma.find(k);
    EXPECT_EQ(it == sigma.end() ? 0 : it->second, n)
        << std::get<0>(k) << " " << std::get<1>(k) << " " << std::get<2>(k);
  }
  for (const auto& [k, n] : sigma) {
    EXPECT_TRUE(native.contains(k)) << "only Sigma: " << std::get<0>(k) << " " << std::get<1>(k)
                                    << " " << std::get<2>(k) << " x" << n;
  }
}

}  // namespace
}  // namespace faultline
