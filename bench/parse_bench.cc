// Parsing cost per envelope against a reference measured in the same process: simdjson
// On-Demand walking every field and value of the same documents ("full parse"). faultline's
// target: normalizing a Winlogbeat event costs at most 2x that full parse, with no heap
// allocation per event in the steady state.
//
//   build-release/bench/parse_bench --benchmark_min_time=2
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

// The 838 real Winlogbeat 7.2 documents from Kafka (../shared), else the bundled demo incident.
const std::vector<std::string>& Documents() {
  static const std::vector<std::string> docs = [] {
    std::vector<std::string> out;
    for (const std::string& path :
         {std::string(FAULTLINE_SHARED_DIR) +
              "/fixtures/real/logprep__winlogbeat-7.2.0_kafka_wineventlog_raw.jsonl",
          std::string(FAULTLINE_SOURCE_DIR) + "/app/demo/exchange_owa_incident.jsonl"}) {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) out.push_back(line);
      }
      if (!out.empty()) break;
    }
    return out;
  }();
  return docs;
}

int64_t TotalBytes() {
  int64_t n = 0;
  for (const std::string& d : Documents()) n += static_cast<int64_t>(d.size());
  return n;
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

void BM_SimdjsonFullParse(benchmark::State& state) {
  const auto& docs = Documents();
  simdjson::ondemand::parser parser;
  std::vector<simdjson::padded_string> padded(docs.begin(), docs.end());
  uint64_t sink = 0;
  for (auto _ : state) {
    for (const auto& p : padded) {
      simdjson::ondemand::document doc;
      simdjson::ondemand::value root;
      if (parser.iterate(p).get(doc) || doc.get_value().get(root) || Walk(root, &sink)) {
        state.SkipWithError("simdjson failed on a fixture document");
        return;
      }
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(docs.size()));
  state.SetBytesProcessed(state.iterations() * TotalBytes());
}
BENCHMARK(BM_SimdjsonFullParse);

void BM_WinlogbeatParser(benchmark::State& state) {
  const auto& docs = Documents();
  EnvelopeParser parser;
  Event event;
  for (const auto& d : docs) parser.Parse(d, &event);  // warm the reused buffers
  const uint64_t allocations_before = bench::g_allocations.load();
  for (auto _ : state) {
    for (const auto& d : docs) {
      if (parser.Parse(d, &event) != ParseError::kOk) {
        state.SkipWithError("a fixture document was rejected");
        return;
      }
      benchmark::DoNotOptimize(event.event_id);
    }
  }
  const int64_t events = state.iterations() * static_cast<int64_t>(docs.size());
  state.counters["allocs_per_event"] =
      static_cast<double>(bench::g_allocations.load() - allocations_before) /
      static_cast<double>(events);
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(state.iterations() * TotalBytes());
}
BENCHMARK(BM_WinlogbeatParser);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
