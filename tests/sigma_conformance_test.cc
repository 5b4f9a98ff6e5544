// Sigma conformance on SigmaHQ's own regression data (../shared/fixtures/sigma): every rule of the
// SigmaHQ tree is loaded as the sigma detector loads it; every rule that loads and has regression
// events must match them as its info.yml says (match_count), parsed by faultline's own envelope
// parser (the evtx_dump JSON). Then every loaded rule meets every regression event: what matches
// besides a file's own rule is printed (SIGMA.md explains each). Prints the figures SIGMA.md
// quotes.
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/testing/shared_fixtures.h"
#include "detect/sigma/matcher.h"
#include "detect/sigma/rules.h"
#include "gtest/gtest.h"
#include "ingest/parse/envelope_parser.h"
#include "ingest/parse/json_value.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;

struct Regression {
  std::string rule_id;
  std::string path;
  int match_count = 0;  // info.yml's, when it gives one
  std::vector<Event> events;
};

TEST(SigmaConformanceTest, EveryLoadedRuleMatchesItsOwnRegressionEvents) {
  FAULTLINE_SKIP_WITHOUT_SHARED();
  const std::string root = testing::SharedPath("fixtures/sigma");
  absl::StatusOr<sigma::RuleSet> set = sigma::LoadRules(
      {root + "/rules", root + "/rules-emerging-threats", root + "/rules-threat-hunting"});
  ASSERT_TRUE(set.ok()) << set.status();
  std::map<std::string, size_t> windows_skipped;
  for (const sigma::Skipped& s : set->skipped) {
    if (s.reason.find("faultline reads Windows event logs") == std::string::npos) {
      ++windows_skipped[s.reason];
    }
  }
  std::printf(
      "SigmaHQ tree: %zu files, %zu rules loaded, %zu skipped (%zu of them Windows rules)\n",
      set->files, set->rules.size(), set->skipped.size(), [&] {
        size_t n = 0;
        for (const auto& [r, c] : windows_skipped) n += c;
        return n;
      }());
  for (const auto& [reason, n] : windows_skipped) std::printf("  %4zu  %s\n", n, reason.c_str());

  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < set->rules.size(); ++i) by_id[set->rules[i].id] = i;

  // Every regression file, parsed.
  EnvelopeParser parser({.all_fields = true});
  std::vector<Regression> regressions;
  size_t documents = 0;
  const std::regex count_re("match_count:\\s*(\\d+)");
  for (const auto& entry : fs::recursive_directory_iterator(root + "/regression_data")) {
    if (entry.path().extension() != ".json") continue;
    Regression r{.rule_id = entry.path().stem().string(), .path = entry.path().string()};
    std::smatch m;
    const std::string info = testing::ReadFile((entry.path().parent_path() / "info.yml").string());
    if (std::regex_search(info, m, count_re)) r.match_count = std::stoi(m[1]);
    const std::string text = testing::ReadFile(r.path);
    for (std::string_view doc : SplitJsonDocuments(text)) {
      Event e;
      const ParseError pe = parser.Parse(doc, &e);
      EXPECT_EQ(pe, ParseError::kOk) << r.path << ": " << ParseErrorName(pe);
      if (pe == ParseError::kOk) r.events.push_back(std::move(e));
      ++documents;
    }
    regressions.push_back(std::move(r));
  }
  std::sort(regressions.begin(), regressions.end(),
            [](const Regression& a, const Regression& b) { return a.path < b.path; });

  sigma::Matcher matcher(*set);
  size_t with_rule = 0, matched = 0, cross = 0;
  std::vector<std::string> not_loaded, failures, cross_lines, more;
  for (const Regression& r : regressions) {
    const auto own = by_id.find(r.rule_id);
    std::set<std::string> others;
    int own_hits = 0;
    for (const Event& e : r.events) {
      for (uint32_t index : matcher.Match(e)) {
        if (own != by_id.end() && index == own->second) {
          ++own_hits;
        } else {
          others.insert(set->rules[index].title);
        }
      }
    }
    if (own == by_id.end()) {
      not_loaded.push_back(r.rule_id);
    } else {
      ++with_rule;
      // info.yml's match_count is what its author's tool reported; several files hold more
      // events that plainly satisfy the rule (SIGMA.md lists them): at least that many match.
      if (own_hits >= std::max(1, r.match_count)) {
        ++matched;
        if (r.match_count > 0 && own_hits > r.match_count) {
          more.push_back(absl::StrCat(r.rule_id, " ", set->rules[own->second].title, ": ", own_hits,
                                      " of ", r.events.size(), ", info.yml says ", r.match_count));
        }
      } else {
        failures.push_back(absl::StrCat(
            set->rules[own->second].title, " (", r.path, "): ", own_hits, " of ", r.events.size(),
            " event(s) matched, info.yml says ", std::max(1, r.match_count)));
      }
    }
    if (!others.empty()) {
      ++cross;
      cross_lines.push_back(absl::StrCat(r.rule_id, ": ", absl::StrJoin(others, " | ")));
    }
  }
  std::printf(
      "regression data: %zu files, %zu events; rule loaded for %zu, matched as info.yml "
      "says: %zu; rule not loaded: %zu (%s)\n",
      regressions.size(), documents, with_rule, matched, not_loaded.size(),
      absl::StrJoin(not_loaded, ", ").c_str());
  std::printf("more events matched than info.yml's match_count: %zu files\n", more.size());
  for (const std::string& line : more) std::printf("  %s\n", line.c_str());
  std::printf("events matched by other rules as well: %zu files\n", cross);
  for (const std::string& line : cross_lines) std::printf("  %s\n", line.c_str());
  for (const std::string& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(matched, with_rule);
  EXPECT_GE(with_rule, 150u) << "fewer regression rules loaded than SIGMA.md reports";
}

}  // namespace
}  // namespace faultline
