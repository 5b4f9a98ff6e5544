#include "app/metrics.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/testing/test_pipeline.h"
#include "core/version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

constexpr char kPromtool[] = "/usr/bin/promtool";

std::string Scrape(const prometheus::Collectable& metrics) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, metrics.Collect());
  return out.str();
}

// `promtool check metrics` on `text`: its exit status and what it said.
std::pair<int, std::string> Promtool(const std::string& text) {
  // One pair of files per process: CTest runs the tests of this binary in parallel.
  const std::string base = ::testing::TempDir() + "/metrics_test." + std::to_string(getpid());
  const std::string in = base + ".prom";
  const std::string out = base + ".promtool";
  std::ofstream(in) << text;
  const int rc = std::system(
      (std::string(kPromtool) + " check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream said(out);
  std::stringstream s;
  s << said.rdbuf();
  return {WEXITSTATUS(rc), s.str()};
}

class FaultlineMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestPipeline t = MakeTestPipeline();
    pipeline_ = std::move(t.pipeline);
    pipeline_->OnMessage(Message{.payload = "not json"});
    ReadIncident(*pipeline_);
  }
  // The demo incident, through `pipeline` to its sink.
  static void ReadIncident(Pipeline& pipeline) {
    std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl");
    for (std::string line; std::getline(in, line);) pipeline.OnMessage(Message{.payload = line});
    pipeline.Drain();
  }
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(FaultlineMetricsTest, ExposesEveryStageWithBoundedLabels) {
  const std::string text = Scrape(FaultlineMetrics({pipeline_.get()}, {}));
  EXPECT_THAT(text, HasSubstr("faultline_events_consumed_total 8\n"));
  EXPECT_THAT(text, HasSubstr("faultline_events_parsed_total 7\n"));
  EXPECT_THAT(text, HasSubstr("faultline_events_rejected_total{reason=\"not_json\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_events_rejected_total{reason=\"truncated\"} 0\n"))
      << "every reason is present from the start";
  EXPECT_THAT(text, HasSubstr("faultline_alerts_total{rule=\"iis_app_pool_disabled\","
                              "severity=\"critical\",status=\"firing\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_incidents_active{rule=\"iis_worker_failure_burst\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_sink_delivered_total{sink=\"fake\",type=\"fake\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("faultline_sink_queue_capacity{sink=\"fake\",type=\"fake\"} 10000\n"));
  EXPECT_THAT(text, HasSubstr("faultline_event_to_alert_seconds_count 3\n"));
  EXPECT_THAT(text, HasSubstr("faultline_detector_state_keys{detector=\"iis_rapid_fail\"}"));
  EXPECT_THAT(text, HasSubstr("faultline_build_info{version=\"" + std::string(kVersion)));
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(text, HasSubstr("process_open_fds "));
  EXPECT_THAT(text, HasSubstr("process_cpu_seconds_total "));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("EXCH01"))) << "no host names as labels";
  EXPECT_THAT(text, ::testing::Not(HasSubstr("MSExchangeOWAAppPool"))) << "no pool names";
}

TEST_F(FaultlineMetricsTest, PassesPromtoolCheckMetrics) {
  if (!std::filesystem::exists(kPromtool)) {
    GTEST_SKIP() << kPromtool << " is not installed (./dev.sh test installs Debian's prometheus)";
  }
  const auto [rc, said] = Promtool(Scrape(FaultlineMetrics({pipeline_.get()}, {})));
  EXPECT_EQ(rc, 0) << said;
  EXPECT_EQ(said, "") << "no lint findings";
}

TEST(PromtoolTest, WouldCatchABadlyNamedCounter) {
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << kPromtool << " is not installed";
  const auto [rc, said] = Promtool(
      "# HELP faultline_things Things.\n# TYPE faultline_things counter\n"
      "faultline_things 1\n");
  EXPECT_NE(rc, 0) << "the check above can fail";
  EXPECT_THAT(said, HasSubstr("_total"));
}

TEST_F(FaultlineMetricsTest, SumsTheWorkersCountersIntoOneSeriesEach) {
  // A second worker's pipeline that read the same incident (kafka.workers: 2).
  TestPipeline second = MakeTestPipeline();
  ReadIncident(*second.pipeline);
  const std::string text = Scrape(FaultlineMetrics({pipeline_.get(), second.pipeline.get()}, {}));
  EXPECT_THAT(text, HasSubstr("faultline_events_consumed_total 15\n"));
  EXPECT_THAT(text, HasSubstr("faultline_events_rejected_total{reason=\"not_json\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("faultline_alerts_total{rule=\"iis_app_pool_disabled\","
                              "severity=\"critical\",status=\"firing\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("faultline_incidents_active{rule=\"iis_worker_failure_burst\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("faultline_event_to_alert_seconds_count 6\n"));
  EXPECT_THAT(text, HasSubstr("faultline_hosts 2\n"));
  // One series per detector, not one per worker: promtool rejects a repeated series.
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << kPromtool << " is not installed";
  const auto [rc, said] = Promtool(text);
  EXPECT_EQ(rc, 0) << said;
}

}  // namespace
}  // namespace faultline
