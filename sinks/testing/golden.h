// Golden-file checks for sink formatters, and the sample alert they all render.
// FAULTLINE_UPDATE_GOLDEN=1 rewrites the golden files after an intended change (then review the
// diff before committing it).
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "core/alert.h"
#include "gtest/gtest.h"

namespace faultline::testing {

// Compares `actual` with the file at `relative` (from the source root).
inline void ExpectGolden(const std::string& relative, const std::string& actual) {
  const std::string path = std::string(FAULTLINE_SOURCE_DIR) + "/" + relative;
  if (std::getenv("FAULTLINE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << actual;
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing golden file " << path << " (FAULTLINE_UPDATE_GOLDEN=1 writes it)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "golden " << relative;
}

// The disabled-pool alert of the demo incident, trimmed to two evidence entries.
inline Alert SampleAlert() {
  Alert a;
  a.set_rule("iis_app_pool_disabled");
  a.set_severity("critical");
  a.set_status("firing");
  a.set_host("EXCH01");
  a.set_app_pool("MSExchangeOWAAppPool");
  a.set_count(2);
  a.set_window_seconds(300);
  *a.mutable_first_event_time() = ToProtoTime(absl::FromUnixSeconds(1773134043));
  *a.mutable_last_event_time() = ToProtoTime(absl::FromUnixSeconds(1773134155));
  a.set_fingerprint("3e8a92279cfaa532");
  a.set_summary("IIS rapid-fail protection disabled application pool 'MSExchangeOWAAppPool'.");
  Evidence* e = a.add_evidence();
  e->set_provider("Microsoft-Windows-WAS");
  e->set_event_id(5009);
  *e->mutable_time() = ToProtoTime(absl::FromUnixSeconds(1773134043));
  e->set_pid(4312);
  e->set_exit_code("0x800703E9");
  e->set_meaning("stack overflow");
  e->set_record_id(912340);
  e->set_kind("failure");
  Evidence* c = a.add_evidence();
  c->set_kind("context");
  c->set_provider(".NET Runtime");
  c->set_event_id(1026);
  *c->mutable_time() = ToProtoTime(absl::FromUnixSeconds(1773134044));
  c->set_detail("Application: w3wp.exe Exception Info: System.StackOverflowException");
  a.set_incident_id("5b1f0c2d9e8a7b64");
  a.set_sequence(1);
  (*a.mutable_labels())["team"] = "messaging";
  return a;
}

// The same incident's resolution.
inline Alert SampleResolvedAlert() {
  Alert a = SampleAlert();
  a.set_status("resolved");
  a.set_sequence(2);
  a.set_summary(
      "Application pool 'MSExchangeOWAAppPool' on EXCH01 serves again: worker 9120 seen 4m "
      "after IIS disabled it.");
  return a;
}

}  // namespace faultline::testing
