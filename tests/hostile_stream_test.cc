// 100,000 hostile messages interleaved with a real incident: no crash, every hostile message
// counted under a reason, the incident still detected.
#include <fstream>
#include <random>

#include "app/testing/test_pipeline.h"
#include "bench/hostile.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(HostileStreamTest, SurvivesCountsEveryHostileMessageAndStillDetectsTheIncident) {
  std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl");
  std::vector<std::string> incident;
  for (std::string line; std::getline(in, line);) incident.push_back(line);
  ASSERT_EQ(incident.size(), 7u);

  // A limit above the 10 MB strings, so they reach the parser instead of the size check.
  TestPipeline t = MakeTestPipeline({}, 16 << 20);
  Pipeline& pipeline = *t.pipeline;
  FakeSink* fake = t.sink;

  constexpr int kHostile = 100'000;
  testing::HostileGenerator hostile(20261122, 10 << 20);
  size_t next_real = 0;
  for (int i = 0; i < kHostile; ++i) {
    if (next_real < incident.size() && i == static_cast<int>(next_real) * (kHostile / 7)) {
      pipeline.OnMessage(Message{.payload = incident[next_real++]});
    }
    const std::string message = hostile.Next(i, incident[i % incident.size()]);
    pipeline.OnMessage(Message{.payload = message, .origin = {.partition = 0, .offset = i}});
  }
  ASSERT_EQ(next_real, incident.size());
  pipeline.Drain();

  const RunStats& s = pipeline.stats();
  EXPECT_EQ(s.messages.load(), static_cast<uint64_t>(kHostile) + 7);
  EXPECT_EQ(s.parsed.load(), 7u);
  EXPECT_EQ(s.rejected(), static_cast<uint64_t>(kHostile));
  EXPECT_EQ(s.rejected_by_reason[0].load(), 0u);
  for (int r = 1; r < kParseErrorCount; ++r) {
    std::cout << ParseErrorName(static_cast<ParseError>(r)) << ": "
              << s.rejected_by_reason[r].load() << "\n";
  }
  const std::vector<Alert> alerts = fake->alerts();
  ASSERT_EQ(alerts.size(), 3u);
  EXPECT_EQ(alerts[1].rule(), "iis_rapid_fail_imminent");
  EXPECT_EQ(alerts[2].rule(), "iis_app_pool_disabled");
  EXPECT_EQ(alerts[2].count(), 5u);
}

}  // namespace
}  // namespace faultline
