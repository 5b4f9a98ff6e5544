// What the Dispatcher costs per alert, against a reference in the same process: the same alerts
// handed straight to the same sink on the calling thread (what faultline did before sinks had
// their own threads). Through the dispatcher, an alert crosses to the sink's worker thread and
// its ticket is told; with a spool, it is first appended to the journal and fdatasync'ed (one
// sync per batch the journal thread picks up).
//
//   build-release/bench/dispatch_bench --benchmark_min_time=2
//
// Also what printing an alert as JSON costs, by hand and by protobuf's printer (BM_AlertToJson*).
#include <filesystem>
#include <thread>

#include "benchmark/benchmark.h"
#include "sinks/dispatcher.h"

namespace faultline {
namespace {

class CountingSink final : public Sink {
 public:
  explicit CountingSink(size_t batch) : batch_(batch) {}
  absl::Status Deliver(absl::Span<const Alert* const> alerts) override {
    for (const Alert* a : alerts) count_ += a->count() > 0;
    return absl::OkStatus();
  }
  size_t max_batch() const override { return batch_; }
  uint64_t count() const { return count_; }

 private:
  size_t batch_;
  uint64_t count_ = 0;
};

Alert SampleAlert() {
  Alert a;
  a.set_rule("iis_worker_failure_burst");
  a.set_severity("warning");
  a.set_status("firing");
  a.set_host("IIS01.contoso.local");
  a.set_app_pool("DefaultAppPool");
  a.set_count(3);
  a.set_fingerprint("90cb9ef50f1993e1");
  a.set_summary("3 worker process failures of application pool 'DefaultAppPool' in 54s.");
  for (int i = 0; i < 3; ++i) {
    Evidence* e = a.add_evidence();
    e->set_provider("Microsoft-Windows-WAS");
    e->set_event_id(5011);
    e->set_pid(4000 + i);
    e->set_kind("failure");
  }
  return a;
}

constexpr int kAlertsPerIteration = 1000;

void BM_ReferenceDirectCall(benchmark::State& state) {
  const Alert sample = SampleAlert();
  CountingSink sink(1);
  for (auto _ : state) {
    for (int i = 0; i < kAlertsPerIteration; ++i) {
      auto alert = std::make_shared<const Alert>(sample);
      const Alert* batch[] = {alert.get()};
      benchmark::DoNotOptimize(sink.Deliver(batch));
    }
  }
  state.SetItemsProcessed(state.iterations() * kAlertsPerIteration);
}
BENCHMARK(BM_ReferenceDirectCall);

// Arg 0: the sink's max_batch; arg 1: 1 with a spool.
void BM_Dispatcher(benchmark::State& state) {
  const Alert sample = SampleAlert();
  const bool spool = state.range(1) == 1;
  const std::string dir = "/tmp/faultline-dispatch-bench-spool";
  std::filesystem::remove_all(dir);
  Dispatcher::Route route;
  route.queue.name = "bench";
  route.queue.capacity = 1 << 20;
  route.type = "counting";
  route.sink = std::make_unique<CountingSink>(static_cast<size_t>(state.range(0)));
  std::vector<Dispatcher::Route> routes;
  routes.push_back(std::move(route));
  auto dispatcher = Dispatcher::Create(std::move(routes), spool ? dir : "", RealClock::Get());
  if (!dispatcher.ok()) {
    state.SkipWithError(std::string(dispatcher.status().message()).c_str());
    return;
  }
  (*dispatcher)->Start();
  const SinkStats& stats = (*dispatcher)->sinks()[0].stats;
  std::vector<std::shared_ptr<DeliveryTicket>> tickets(kAlertsPerIteration);
  for (auto _ : state) {
    // One ticket per alert, as when each message raises one alert.
    for (int i = 0; i < kAlertsPerIteration; ++i) {
      tickets[i] = std::make_shared<DeliveryTicket>();
      (*dispatcher)->Submit(std::make_shared<const Alert>(sample), tickets[i]);
    }
    // Acknowledged (delivered, or durable with a spool) and delivered.
    while (!tickets.back()->done() || stats.queued.load(std::memory_order_relaxed) > 0) {
      std::this_thread::yield();
    }
  }
  state.SetItemsProcessed(state.iterations() * kAlertsPerIteration);
  (*dispatcher)->Stop(absl::Seconds(10));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Dispatcher)
    ->ArgNames({"batch", "spool"})
    ->Args({1, 0})
    ->Args({64, 0})
    ->Args({1, 1})
    ->Args({64, 1})
    ->UseRealTime();

// An alert printed as the stable JSON shape (file sink, webhook json, Kafka json), by hand and,
// for reference, by protobuf's printer: the sample with its three evidence items, timed.
Alert TimedSample() {
  Alert a = SampleAlert();
  *a.mutable_first_event_time() = ToProtoTime(absl::FromUnixSeconds(1796560835));
  *a.mutable_last_event_time() = ToProtoTime(absl::FromUnixMillis(1796560863340));
  for (Evidence& e : *a.mutable_evidence()) *e.mutable_time() = a.last_event_time();
  a.set_detection_delay_seconds(1.34);
  return a;
}

void BM_AlertToJson(benchmark::State& state) {
  const Alert a = TimedSample();
  for (auto _ : state) benchmark::DoNotOptimize(AlertToJson(a));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AlertToJson);

void BM_AlertToJsonByProtobuf(benchmark::State& state) {
  const Alert a = TimedSample();
  for (auto _ : state) benchmark::DoNotOptimize(AlertToJsonByProtobuf(a));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AlertToJsonByProtobuf);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
