// The detect stage alone (events already parsed), against a reference in the same process: a
// loop that only reads each event's id (the floor any detector pays to look at an event).
//
//   build-release/bench/detect_bench --benchmark_min_time=2
#include <vector>

#include "bench/alloc_counter.h"
#include "benchmark/benchmark.h"
#include "detect/engine.h"
#include "detect/fleet/fleet_app_pool_detector.h"
#include "detect/iis/rapid_fail_detector.h"
#include "detect/service/service_crash_loop_detector.h"

namespace faultline {
namespace {

class DiscardOutput final : public AlertOutput {
 public:
  void Emit(Alert) override { ++alerts; }
  uint64_t alerts = 0;
};

// Every built-in detector, as faultline run builds them.
std::unique_ptr<Engine> MakeEngine() {
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(std::move(RapidFailDetector::Create({}, {})).value());
  detectors.push_back(std::move(ServiceCrashLoopDetector::Create({}, {})).value());
  detectors.push_back(std::move(FleetAppPoolDetector::Create({}, {})).value());
  return std::make_unique<Engine>(std::move(detectors));
}

// A realistic mix: 1 worker failure in `failure_every` events, the rest irrelevant System and
// Security events, over `pools` (host, pool) keys, at 10,000 events per second of event time (a
// busy fleet topic). The rate matters: every 30 s of event time detectors scan their keys for
// drained incidents, so one event per second of event time (an earlier version of this
// benchmark) made that scan cost 30x more per event than in any real stream.
std::vector<Event> MakeEvents(int n, int failure_every, int pools) {
  std::vector<Event> events(n);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < n; ++i) {
    Event& e = events[i];
    e.time = t0 + absl::Microseconds(100) * i;
    const int key = i % pools;
    e.host = "web" + std::to_string(key % 1000);
    e.channel = "System";
    e.record_id = static_cast<uint64_t>(i) + 1;  // routed events pass the dedupe check
    if (i % failure_every == 0) {
      e.provider = Provider::kWas;
      e.provider_name = "Microsoft-Windows-WAS";
      e.event_id = kWasWorkerCommunicationError;
      e.app_pool = "pool" + std::to_string(key);
      e.pid = static_cast<uint32_t>(1000 + i);
    } else {
      e.provider = i % 2 ? Provider::kServiceControlManager : Provider::kOther;
      e.event_id = i % 2 ? 7036 : 4624;
    }
  }
  return events;
}

void BM_ReferenceReadEventId(benchmark::State& state) {
  const std::vector<Event> events = MakeEvents(100'000, state.range(0), 1000);
  uint64_t sum = 0;
  for (auto _ : state) {
    for (const Event& e : events) sum += e.event_id;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
}
BENCHMARK(BM_ReferenceReadEventId)->Arg(100)->Arg(10);

void BM_Engine(benchmark::State& state) {
  const std::vector<Event> events =
      MakeEvents(100'000, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  DiscardOutput out;
  std::unique_ptr<Engine> engine = MakeEngine();
  absl::Duration shift;  // each pass moves event time on, so windows slide instead of piling up
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Event> pass = events;
    for (Event& e : pass) e.time += shift;
    shift += absl::Hours(48);
    state.ResumeTiming();
    for (Event& e : pass) engine->Process(e, out);
  }
  state.counters["alerts"] = static_cast<double>(out.alerts);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
}
// Args: one worker failure per N events (100: a busy fleet; 10: every pool bursting at once),
// over K (host, pool) keys.
BENCHMARK(BM_Engine)->Args({100, 100'000})->Args({100, 1000})->Args({10, 1000});

// The same as `run` sees it: each message with its Kafka timestamp (the event's time plus a
// second), on 4 partitions by host, instead of the stream clock of a file.
void BM_EngineBrokerTime(benchmark::State& state) {
  std::vector<Event> events =
      MakeEvents(100'000, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (Event& e : events) e.origin.partition = static_cast<int32_t>(e.host.size() % 4);
  DiscardOutput out;
  std::unique_ptr<Engine> engine = MakeEngine();
  absl::Duration shift;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Event> pass = events;
    for (Event& e : pass) {
      e.time += shift;
      e.origin.broker_time = e.time + absl::Seconds(1);
    }
    shift += absl::Hours(48);
    state.ResumeTiming();
    for (Event& e : pass) engine->Process(e, out);
  }
  state.counters["alerts"] = static_cast<double>(out.alerts);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events.size()));
}
BENCHMARK(BM_EngineBrokerTime)->Args({100, 100'000});

// Heap bytes of the engine's clock per source host (detect/time/event_clocks.h): 100,000 hosts,
// one event each on one channel, then a second channel: a WAS 5186 (a worker shut down for
// idleness) of a pool with no state, which moves its host's clock and leaves no detector state.
void BM_ClockBytesPerHost(benchmark::State& state) {
  const int hosts = static_cast<int>(state.range(0));
  std::vector<Event> events(hosts);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < hosts; ++i) {
    events[i].time = t0 + absl::Milliseconds(i);
    events[i].host = "web" + std::to_string(i) + ".contoso.local";
    events[i].channel = "System";
    events[i].provider = Provider::kWas;
    events[i].event_id = kWasWorkerIdleShutdown;
    events[i].app_pool = "idle";
    events[i].origin.broker_time = events[i].time;
  }
  double one = 0, two = 0;
  for (auto _ : state) {
    const int64_t before = bench::g_live_bytes.load();
    DiscardOutput out;
    std::vector<std::unique_ptr<Detector>> detectors;
    detectors.push_back(std::move(RapidFailDetector::Create({}, {})).value());
    auto engine = std::make_unique<Engine>(std::move(detectors),
                                           EngineOptions{.max_hosts = static_cast<size_t>(hosts)});
    for (Event& e : events) engine->Process(e, out);
    one = static_cast<double>(bench::g_live_bytes.load() - before) / hosts;
    for (Event& e : events) {
      e.channel = "Application";
      engine->Process(e, out);
      e.channel = "System";
    }
    two = static_cast<double>(bench::g_live_bytes.load() - before) / hosts;
    benchmark::DoNotOptimize(engine);
  }
  state.counters["bytes_per_host"] = one;
  state.counters["bytes_per_host_2_channels"] = two;
  state.SetItemsProcessed(state.iterations() * hosts);
}
BENCHMARK(BM_ClockBytesPerHost)->Arg(100'000)->Iterations(3)->Unit(benchmark::kMillisecond);

// Heap bytes of detector state per (host, pool) key: 100,000 pools with one failure each, all
// inside one window, measured by the allocation hook (bench/alloc_counter.cc).
void BM_StateBytesPerKey(benchmark::State& state) {
  const int keys = static_cast<int>(state.range(0));
  std::vector<Event> events(keys);
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  for (int i = 0; i < keys; ++i) {
    Event& e = events[i];
    e.time = t0 + absl::Milliseconds(i % 60'000);
    e.host = "web" + std::to_string(i / 10) + ".contoso.local";
    e.provider = Provider::kWas;
    e.event_id = kWasWorkerCommunicationError;
    e.channel = "System";
    e.record_id = static_cast<uint64_t>(i) + 1;
    e.app_pool = "pool" + std::to_string(i % 10);
    e.pid = static_cast<uint32_t>(1000 + i);
  }
  DiscardOutput out;
  double bytes_per_key = 0;
  for (auto _ : state) {
    const int64_t before = bench::g_live_bytes.load();
    auto engine = MakeEngine();
    for (Event& e : events) engine->Process(e, out);
    bytes_per_key = static_cast<double>(bench::g_live_bytes.load() - before) / keys;
    benchmark::DoNotOptimize(engine);
  }
  state.counters["bytes_per_key"] = bytes_per_key;
  state.SetItemsProcessed(state.iterations() * keys);
}
BENCHMARK(BM_StateBytesPerKey)->Arg(100'000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
