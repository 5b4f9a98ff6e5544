// What Sigma costs: faultline with every SigmaHQ Windows rule that loads, against faultline
// without Sigma, on the same events in the same process (the ratio is the figure; the machine is
// shared). Parse + detect per event, as a worker runs them:
//   BM_Faultline/0  the envelope parser (only what the built-in detectors read) + the engine with
//                   the built-in detectors
//   BM_Faultline/1  the parser filling every event data item + the engine with the built-in
//                   detectors and the sigma detector (SigmaHQ's rules, rules-emerging-threats,
//                   rules-threat-hunting)
//   BM_Match        the Sigma matcher alone on parsed events; allocations per event counted
// Corpora: the 838 real Winlogbeat 7.2 documents from Kafka (Security, System, Application), and
// SigmaHQ's regression events (Sysmon mostly: process creation events meet ~1,200 rules each).
//
//   build-release/bench/sigma_bench --benchmark_min_time=1 --benchmark_repetitions=3
//     --benchmark_report_aggregates_only=true   (one line)
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/alloc_counter.h"
#include "benchmark/benchmark.h"
#include "detect/engine.h"
#include "detect/fleet/fleet_app_pool_detector.h"
#include "detect/iis/rapid_fail_detector.h"
#include "detect/service/service_crash_loop_detector.h"
#include "detect/sigma/matcher.h"
#include "detect/sigma/sigma_detector.h"
#include "ingest/parse/envelope_parser.h"
#include "ingest/parse/json_value.h"

namespace faultline {
namespace {

namespace fs = std::filesystem;

const std::string kShared = FAULTLINE_SHARED_DIR;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Corpus {
  std::string name;
  std::vector<std::string> docs;
};

const std::vector<Corpus>& Corpora() {
  static const auto* corpora = [] {
    auto* out = new std::vector<Corpus>;
    Corpus real{"real_winlogbeat72", {}};
    std::ifstream in(kShared +
                     "/fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) real.docs.push_back(line);
    }
    out->push_back(std::move(real));
    Corpus regression{"sigmahq_regression", {}};
    std::vector<fs::path> files;
    for (const auto& e :
         fs::recursive_directory_iterator(kShared + "/fixtures/sigma/regression_data")) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const std::string text = Read(f.string());
      for (std::string_view d : SplitJsonDocuments(text)) regression.docs.emplace_back(d);
    }
    out->push_back(std::move(regression));
    return out;
  }();
  return *corpora;
}

SigmaConfig AllRules() {
  SigmaConfig c;
  const std::string root = kShared + "/fixtures/sigma";
  c.rules = {root + "/rules", root + "/rules-emerging-threats", root + "/rules-threat-hunting"};
  return c;
}

std::unique_ptr<Engine> NewEngine(bool sigma) {
  DetectorContext context;
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(*RapidFailDetector::Create(RapidFailConfig{}, context));
  detectors.push_back(*ServiceCrashLoopDetector::Create(ServiceCrashLoopConfig{}, context));
  detectors.push_back(*FleetAppPoolDetector::Create(FleetConfig{}, context));
  if (sigma) detectors.push_back(*SigmaDetector::Create(AllRules(), context));
  EngineOptions options;
  options.dedupe_window = absl::ZeroDuration();  // the corpus repeats, as new events
  return std::make_unique<Engine>(std::move(detectors), options);
}

class NullOutput final : public AlertOutput {
 public:
  void Emit(Alert) override { ++alerts; }
  uint64_t alerts = 0;
};

void BM_Faultline(benchmark::State& state, const Corpus* corpus) {
  const bool sigma = state.range(0) == 1;
  EnvelopeOptions options;
  options.all_fields = sigma;
  EnvelopeParser parser(options);
  std::unique_ptr<Engine> engine = NewEngine(sigma);
  NullOutput out;
  Event event;
  // Event time goes on at 1,000 events/s of the corpus, pass after pass (the regression events
  // were logged years apart: as stamped, the engine would count most of them too_old).
  absl::Time now = absl::FromUnixSeconds(1'790'000'000);
  for (auto _ : state) {
    for (const std::string& d : corpus->docs) {
      if (parser.Parse(d, &event) != ParseError::kOk) continue;
      now += absl::Milliseconds(1);
      event.time = now;
      event.origin.broker_time = now;
      engine->Process(event, out);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(corpus->docs.size()));
  state.counters["alerts"] = static_cast<double>(out.alerts);
  state.counters["too_old"] = static_cast<double>(engine->stats().too_old.load());
  state.counters["too_late"] = static_cast<double>(engine->stats().too_late.load());
}

void BM_Match(benchmark::State& state, const Corpus* corpus) {
  absl::StatusOr<sigma::RuleSet> rules = SigmaDetector::Load(AllRules());
  if (!rules.ok()) {
    state.SkipWithError("the rules did not load");
    return;
  }
  sigma::Matcher matcher(*rules);
  EnvelopeOptions options;
  options.all_fields = true;
  EnvelopeParser parser(options);
  std::vector<Event> events;
  for (const std::string& d : corpus->docs) {
    Event e;
    if (parser.Parse(d, &e) == ParseError::kOk) events.push_back(std::move(e));
  }
  uint64_t matches = 0;
  for (const Event& e : events) matches += matcher.Match(e).size();  // warm the scratch buffers
  const uint64_t before = bench::g_allocations.load();
  for (auto _ : state) {
    for (const Event& e : events) matches += matcher.Match(e).size();
  }
  const auto processed = state.iterations() * static_cast<int64_t>(events.size());
  state.SetItemsProcessed(processed);
  state.counters["allocs/event"] =
      static_cast<double>(bench::g_allocations.load() - before) / static_cast<double>(processed);
  state.counters["rules/event"] = static_cast<double>(matcher.evaluations()) /
                                  static_cast<double>(events.size() * (state.iterations() + 1));
  state.counters["spared/event"] = static_cast<double>(matcher.spared()) /
                                   static_cast<double>(events.size() * (state.iterations() + 1));
  state.counters["matches/event"] =
      static_cast<double>(matches) / static_cast<double>(events.size() * (state.iterations() + 1));
}

const bool kRegistered = [] {
  for (const Corpus& c : Corpora()) {
    if (c.docs.empty()) continue;
    benchmark::RegisterBenchmark(("BM_Faultline/" + c.name).c_str(), BM_Faultline, &c)
        ->Arg(0)
        ->Arg(1);
    benchmark::RegisterBenchmark(("BM_Match/" + c.name).c_str(), BM_Match, &c);
  }
  return true;
}();

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
