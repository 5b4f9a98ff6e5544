// 100,000 hostile messages interleaved with a real incident: no crash, every hostile message
// counted under a reason, the incident still detected.
#include <fstream>
#include <random>

#include "app/testing/test_pipeline.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

class HostileGenerator {
 public:
  explicit HostileGenerator(std::vector<std::string> valid) : valid_(std::move(valid)) {}

  std::string Next(int i) {
    const std::string& doc = valid_[i % valid_.size()];
    switch (i % 12) {
      case 0:  // cut anywhere
        return doc.substr(0, 1 + rng_() % (doc.size() - 1));
      case 1:  // every field of the wrong type
        return R"({"@timestamp":123,"winlog":{"event_id":{"x":1},"computer_name":["a"],)"
               R"("record_id":"x","event_data":[1,2]},"message":17})";
      case 2: {  // nesting deeper than any parser should follow, balanced or not
        const int depth = 500 + static_cast<int>(rng_() % 3000);
        return "{\"winlog\":" + std::string(depth, '[') +
               std::string(i % 24 == 2 ? depth : 3, ']') + "}";
      }
      case 3: {  // invalid UTF-8 inside a string
        std::string bad = doc;
        bad[bad.find("EXCH01")] = static_cast<char>(0xC0 | (rng_() % 2));
        return bad;
      }
      case 4: {  // binary noise, NULs included
        std::string noise(1 + rng_() % 2000, '\0');
        for (char& c : noise) c = static_cast<char>(rng_());
        return noise;
      }
      case 5:  // valid JSON that is not an object
        return i % 24 == 5 ? "[{\"winlog\":{}}]" : "\"a string\"";
      case 6:  // 10 MB strings: a few of them
        if (i % 20000 == 6) {
          return "{\"@timestamp\":\"2026-03-10T09:14:02Z\",\"message\":\"" +
                 std::string(10 << 20, 'x') + "\"}";
        }
        return "{}";
      case 7:  // XML that is not a whole Windows event
        return "<Event><System><EventID>5011</EventID><Computer>EXCH01</Comp";
      case 8:  // whitespace only
        return "   \t ";
      case 9:  // numbers out of every range
        return R"({"@timestamp":"2026-03-10T09:14:02Z","winlog":{"event_id":1e400,)"
               R"("computer_name":"h","record_id":184467440737095516150}})";
      case 10:  // a wrapped inner document that is itself broken
        return R"({"@version":"1","message":"{\"winlog\":{\"event_id\":5011,"})";
      default: {  // a real event with its event time made invalid
        std::string bad = doc;
        bad.replace(bad.find("2026-03-10T"), 11, "2026-13-45T");
        return bad;
      }
    }
  }

 private:
  std::vector<std::string> valid_;
  std::mt19937_64 rng_{20261122};
};

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
  HostileGenerator hostile(incident);
  size_t next_real = 0;
  for (int i = 0; i < kHostile; ++i) {
    if (next_real < incident.size() && i == static_cast<int>(next_real) * (kHostile / 7)) {
      pipeline.OnMessage(Message{.payload = incident[next_real++]});
    }
    const std::string message = hostile.Next(i);
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
