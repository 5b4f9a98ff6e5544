// Parsing cost per envelope against a reference measured in the same process: simdjson
// On-Demand walking every field and value of the same documents ("full parse"). faultline's
// target: normalizing a Winlogbeat event costs at most 2x that full parse, with no heap
// allocation per event in the steady state.
//
//   build-release/bench/parse_bench --benchmark_min_time=2
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/alloc_counter.h"
#include "benchmark/benchmark.h"
#include "ingest/parse/envelope_parser.h"
#include "simdjson.h"

namespace faultline {
namespace {

struct Corpus {
  std::string name;
  std::vector<std::string> docs;
  int64_t bytes = 0;
  bool json = true;
};

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The 838 real Winlogbeat 7.2 documents from Kafka (when ../shared is there), and the incident
// rendered in every envelope (tests/testdata/envelopes).
std::vector<Corpus> Corpora() {
  std::vector<Corpus> out;
  std::vector<std::string> real =
      ReadLines(std::string(FAULTLINE_SHARED_DIR) +
                "/fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl");
  if (!real.empty()) out.push_back({"real_winlogbeat72", std::move(real)});
  const std::filesystem::path dir =
      std::filesystem::path(FAULTLINE_SOURCE_DIR) / "tests" / "testdata" / "envelopes";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    out.push_back({f.stem().string(), ReadLines(f.string())});
    out.back().json = f.stem() != "xml_bare";
  }
  for (Corpus& c : out) {
    for (const std::string& d : c.docs) c.bytes += static_cast<int64_t>(d.size());
  }
  return out;
}

// Touches every key and value, as a consumer that needs the whole document would.
simdjson::error_code Walk(simdjson::ondemand::value v, uint64_t* sink) {
  simdjson::ondemand::json_type type;
  if (auto e = v.type().get(type)) return e;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object obj;
      if (auto e = v.get_object().get(obj)) return e;
      for (auto field : obj) {
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        *sink += key.size();
        simdjson::ondemand::value child;
        if (auto e = field.value().get(child)) return e;
        if (auto e = Walk(child, sink)) return e;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array arr;
      if (auto e = v.get_array().get(arr)) return e;
      for (auto element : arr) {
        simdjson::ondemand::value child;
        if (auto e = element.get(child)) return e;
        if (auto e = Walk(child, sink)) return e;
      }
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return e;
      *sink += s.size();
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::number: {
      double d;
      if (auto e = v.get_double().get(d)) return e;
      *sink += static_cast<uint64_t>(d);
      return simdjson::SUCCESS;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b;
      if (auto e = v.get_bool().get(b)) return e;
      *sink += b;
      return simdjson::SUCCESS;
    }
    default:
      return simdjson::SUCCESS;
  }
}

void SimdjsonFullParse(benchmark::State& state, const Corpus* corpus) {
  simdjson::ondemand::parser parser;
  std::vector<simdjson::padded_string> padded(corpus->docs.begin(), corpus->docs.end());
  uint64_t sink = 0;
  for (auto _ : state) {
    for (const auto& p : padded) {
      simdjson::ondemand::document doc;
      simdjson::ondemand::value root;
      if (parser.iterate(p).get(doc) || doc.get_value().get(root) || Walk(root, &sink)) {
        state.SkipWithError("simdjson failed on a document");
        return;
      }
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(corpus->docs.size()));
  state.SetBytesProcessed(state.iterations() * corpus->bytes);
}

// all_fields: every event data item into Event::data too, as Sigma rules need.
void Normalize(benchmark::State& state, const Corpus* corpus, bool all_fields) {
  EnvelopeOptions options;
  if (corpus->name == "nxlog_ce") absl::LoadTimeZone("Europe/Berlin", &options.local_time_zone);
  options.all_fields = all_fields;
  EnvelopeParser parser(options);
  Event event;
  for (const auto& d : corpus->docs) parser.Parse(d, &event);  // warm the reused buffers
  const uint64_t allocations_before = bench::g_allocations.load();
  for (auto _ : state) {
    for (const auto& d : corpus->docs) {
      if (parser.Parse(d, &event) != ParseError::kOk) {
        state.SkipWithError("a document was rejected");
        return;
      }
      benchmark::DoNotOptimize(event.event_id);
    }
  }
  const int64_t events = state.iterations() * static_cast<int64_t>(corpus->docs.size());
  if (state.threads() == 1) {  // the allocation counter is global
    state.counters["allocs_per_event"] =
        static_cast<double>(bench::g_allocations.load() - allocations_before) /
        static_cast<double>(events);
  }
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(state.iterations() * corpus->bytes);
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  static const std::vector<faultline::Corpus> corpora = faultline::Corpora();
  for (const faultline::Corpus& c : corpora) {
    if (c.json) {
      benchmark::RegisterBenchmark(("simdjson_full_parse/" + c.name).c_str(),
                                   faultline::SimdjsonFullParse, &c);
    }
    benchmark::RegisterBenchmark(("normalize/" + c.name).c_str(), faultline::Normalize, &c, false);
  }
  for (const faultline::Corpus& c : corpora) {
    if (c.name != "real_winlogbeat72") continue;
    // With every event data item in Event::data (EnvelopeOptions::all_fields: Sigma rules).
    benchmark::RegisterBenchmark("normalize_all_fields/real_winlogbeat72", faultline::Normalize, &c,
                                 true);
    // What parsing on two cores would give `run` (issue 13 makes it general): the real corpus
    // normalized by 1 and 2 threads at once, each with its own parser; items/s is their sum.
    benchmark::RegisterBenchmark("normalize_threads/real_winlogbeat72", faultline::Normalize, &c,
                                 false)
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
