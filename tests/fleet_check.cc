#include "tests/fleet_check.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace faultline::testing {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  return lines.empty() ? "" : lines.back();
}

std::vector<Got> ParseAlerts(const std::string& jsonl) {
  std::vector<Got> out;
  simdjson::dom::parser parser;
  for (const std::string& line :
       std::vector<std::string>(absl::StrSplit(jsonl, '\n', absl::SkipEmpty()))) {
    simdjson::dom::element a;
    EXPECT_EQ(parser.parse(line).get(a), simdjson::SUCCESS) << line;
    if (!a.is_object()) continue;
    Got g;
    auto text = [&](const char* key) {
      std::string_view v;
      return a[key].get_string().get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
    };
    g.rule = text("rule");
    g.status = text("status");
    g.host = text("host");
    g.app_pool = text("app_pool");
    g.service = text("service");
    g.summary = text("summary");
    g.fingerprint = text("fingerprint");
    uint64_t n = 0;
    if (a["count"].get_uint64().get(n) == simdjson::SUCCESS) g.count = static_cast<uint32_t>(n);
    if (a["sequence"].get_uint64().get(n) == simdjson::SUCCESS) {
      g.sequence = static_cast<uint32_t>(n);
    }
    double d = 0;
    if (a["detection_delay_seconds"].get_double().get(d) == simdjson::SUCCESS) g.delay = d;
    std::string error;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text("first_event_time"), &g.first, &error))
        << error;
    out.push_back(std::move(g));
  }
  return out;
}

bool Matches(const Got& g, const FleetIncident& inc, const std::string& rule) {
  if (g.rule != rule || g.host != inc.host) return false;
  if (!inc.service.empty()) return g.service == inc.service;
  return absl::AsciiStrToLower(g.app_pool) == absl::AsciiStrToLower(inc.app_pool);
}

void ExpectEveryIncidentOnce(const std::vector<FleetIncident>& incidents,
                             const std::vector<Got>& alerts, const IncidentCheck& check) {
  const bool run = check.run;
  std::set<size_t> expected;  // alerts that are some incident's first notification
  for (const FleetIncident& inc : incidents) {
    for (size_t r = 0; r < inc.rules.size(); ++r) {
      const std::string& rule = inc.rules[r];
      if (check.skip_rules.count(rule)) continue;
      std::vector<size_t> fired;
      uint32_t most = 0;
      for (size_t i = 0; i < alerts.size(); ++i) {
        if (!Matches(alerts[i], inc, rule)) continue;
        most = std::max(most, alerts[i].count);
        if (alerts[i].status == "firing" && alerts[i].sequence == 1) fired.push_back(i);
      }
      if (check.redelivered) {
        ASSERT_GE(fired.size(), 1u) << inc.what << ": " << rule;
        std::set<std::string> fingerprints;
        for (size_t i : fired) fingerprints.insert(alerts[i].fingerprint);
        EXPECT_EQ(fingerprints.size(), 1u) << inc.what << ": " << rule << " notified "
                                           << fired.size() << " times under other fingerprints";
        expected.insert(fired.begin(), fired.end());
      } else {
        ASSERT_EQ(fired.size(), 1u) << inc.what << ": " << rule;
        expected.insert(fired[0]);
      }
      const Got& g = alerts[fired[0]];
      if (rule == "fleet_app_pool_failures") {
        // Begun and raised by whichever of its hosts the consumer read first.
        // (A corrected clock is exact from the broker, an estimate from the stream clock.)
        const absl::Duration slack = inc.clock_ahead && !run ? absl::Minutes(3) : absl::Seconds(1);
        EXPECT_GE(g.first, inc.first_true - slack) << inc.what;
        EXPECT_LE(g.first, inc.first_latest + slack) << inc.what;
        // The delay runs to the window's last failure, which may be another host's than the one
        // that completed it.
        const absl::Duration span = inc.first_latest - inc.first_true;
        EXPECT_GE(g.delay, absl::ToDoubleSeconds(inc.delay_min - span) - (run ? 2 : 240))
            << inc.what;
        EXPECT_LE(g.delay, absl::ToDoubleSeconds(inc.delay_max) + (run ? 2 : 240)) << inc.what;
        EXPECT_GE(g.count, inc.min_hosts) << inc.what;
        EXPECT_EQ(most, inc.hosts) << inc.what << ": every host of the pool counted in the end";
        continue;
      }
      // On its own time: a host's clock running ahead is corrected, to within the delay of the
      // event it was first judged by (WEB199's Application channel is 3 minutes late) and, in
      // replay, the stream clock's estimate; one behind is taken as it is.
      const absl::Time first = inc.clock_ahead ? inc.first_true : inc.first_logged;
      const absl::Duration slack = inc.clock_ahead ? absl::Minutes(4) : absl::Seconds(1);
      EXPECT_LE(absl::AbsDuration(g.first - first), slack)
          << inc.what << ": " << rule << " first_event_time " << g.first << ", expected " << first;
      // How late it came: a forwarder's lag, a backlog, a batch. In replay the stream clock is an
      // estimate (the median host's latest event lags its arrival by up to a couple of minutes).
      const absl::Duration delay = inc.clock_ahead ? inc.delay_true[r] : inc.delay_logged[r];
      const double tolerance = run ? 2.0 : 240.0;
      EXPECT_NEAR(g.delay, absl::ToDoubleSeconds(delay), tolerance)
          << inc.what << ": " << rule << " detection_delay_seconds";
      if (delay > absl::Minutes(10)) {
        EXPECT_NE(g.summary.find(" after it happened."), std::string::npos) << g.summary;
      }
      if (rule == "iis_app_pool_disabled") {
        EXPECT_EQ(g.count, inc.count) << inc.what << ": each failure once (5009 + 1000 is one)";
      }
    }
  }
  for (size_t i = 0; i < alerts.size(); ++i) {
    const Got& g = alerts[i];
    if (check.skip_rules.count(g.rule)) continue;
    if (g.status == "firing" && g.sequence == 1 && !expected.count(i)) {
      ADD_FAILURE() << "unexpected " << g.rule << " on " << g.host << " " << g.app_pool << g.service
                    << ": " << g.summary;
    }
  }
}

void ExpectCounted(const std::vector<const FleetStream*>& fleets,
                   const std::vector<std::string>& summaries, bool run) {
  std::vector<simdjson::dom::parser> parsers(summaries.size());
  std::vector<simdjson::dom::element> parsed(summaries.size());
  for (size_t i = 0; i < summaries.size(); ++i) {
    ASSERT_EQ(parsers[i].parse(summaries[i]).get(parsed[i]), simdjson::SUCCESS) << summaries[i];
  }
  const std::string all = absl::StrJoin(summaries, "\n");
  auto n = [&](std::string_view path) {
    uint64_t sum = 0;
    for (const simdjson::dom::element& s : parsed) {
      uint64_t v = 0;
      const simdjson::error_code error = s.at_pointer(path).get_uint64().get(v);
      // A summary lists only the reasons it rejected something for (an instance may have none),
      // and restores only when it restored.
      if (error == simdjson::NO_SUCH_FIELD &&
          (path.rfind("/rejected_by_reason/", 0) == 0 || path == "/restored_hosts")) {
        continue;
      }
      EXPECT_EQ(error, simdjson::SUCCESS) << path;
      sum += v;
    }
    return sum;
  };
  uint64_t duplicates = 0, bad_time = 0, too_late = 0, too_old = 0, clock_ahead = 0, events = 0;
  for (const FleetStream* fleet : fleets) {
    duplicates += fleet->duplicates;
    bad_time += fleet->bad_time;
    too_late += fleet->too_late;
    too_old += run ? fleet->too_old_run : 0u;
    clock_ahead += fleet->clock_ahead_run;
    events += fleet->lines.size();
  }
  EXPECT_EQ(n("/duplicates"), duplicates) << all;
  EXPECT_EQ(n("/rejected_by_reason/bad_time"), bad_time) << all;
  EXPECT_EQ(n("/rejected"), bad_time) << all;
  EXPECT_EQ(n("/too_late"), too_late) << all;
  EXPECT_EQ(n("/too_old"), too_old) << all;
  EXPECT_EQ(n("/clock_ahead"), clock_ahead) << all;
  // Hosts with events a detector wants (the one re-reading an old log sends none), each counted
  // by the instance that first read it live: one that took over partitions also knows the
  // hosts it restored from them.
  EXPECT_EQ(n("/hosts") - n("/restored_hosts"), 200u * fleets.size()) << all;
  EXPECT_EQ(n("/events"), events) << all;
}

}  // namespace faultline::testing
