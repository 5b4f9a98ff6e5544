// The per-message path, wired from the three stages: bytes -> EventParser -> Engine -> the
// Dispatcher's sink queues. It is the MessageHandler a Source drives, so it runs on the source's
// thread; OnMessage returns the ticket of the deliveries a message started (its alerts, its dead
// letter), and the source commits past the message once that ticket is done.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "core/clock.h"
#include "core/histogram.h"
#include "detect/engine.h"
#include "ingest/dead_letters.h"
#include "ingest/parse/parser.h"
#include "ingest/source.h"
#include "sinks/dispatcher.h"

namespace faultline {

// Counters of one run. Written by the pipeline thread (the event counters without locked
// instructions: single writer); readable from other threads (progress reports, metrics).
struct RunStats {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> parsed{0};
  std::array<std::atomic<uint64_t>, kParseErrorCount> rejected_by_reason{};
  std::atomic<uint64_t> alerts{0};
  // Kafka timestamps further ahead of the wall clock than detect.max_clock_skew: a producer that
  // stamps records with a host's wrong clock (Winlogbeat stamps them with the event's own time);
  // the engine's arrival clock does not take them.
  std::atomic<uint64_t> broker_time_ahead{0};
  std::atomic<int64_t> last_tick_unix_ms{0};  // the source thread's last Tick: liveness

  // Per alert (rare), so a mutex is fine: by (rule, severity, status), active incidents by rule
  // (fired minus resolved), and how long after the event and the broker append it was raised.
  struct Alerts {
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> by_rule_severity_status;
    std::map<std::string, int64_t> active_by_rule;
  };
  mutable std::mutex mu;
  Alerts alerts_detail;  // guarded by mu
  LatencyHistogram event_to_alert;
  LatencyHistogram broker_to_alert;

  // The detectors' state and the engine's host clocks, as of the last Tick.
  struct DetectorState {
    std::string detector;
    size_t keys = 0;
    uint64_t evictions = 0;
  };
  std::vector<DetectorState> detectors;  // guarded by mu
  size_t hosts = 0;                      // guarded by mu
  uint64_t host_evictions = 0;           // guarded by mu

  uint64_t rejected() const;
};

class Pipeline final : public MessageHandler, private AlertOutput {
 public:
  // `dead_letters` may be null: rejects are then only counted. `drain_timeout` bounds how long
  // Drain() waits for the sinks.
  Pipeline(std::unique_ptr<EventParser> parser, std::unique_ptr<Engine> engine,
           std::unique_ptr<Dispatcher> dispatcher, size_t max_message_bytes,
           std::unique_ptr<DeadLetters> dead_letters, Clock& clock,
           absl::Duration drain_timeout = absl::Seconds(10));

  // Starts delivery (the dispatcher's threads). Before the first message.
  absl::Status Start();

  std::shared_ptr<const DeliveryTicket> OnMessage(const Message& message) override;
  bool Saturated() const override {
    return dispatcher_->Saturated() || (dead_letters_ && dead_letters_->Saturated());
  }
  void Tick() override;
  void OnPartitionsAssigned(const std::vector<int32_t>& partitions) override {
    engine_->PartitionsAssigned(partitions);
  }
  void OnPartitionsRevoked(const std::vector<int32_t>& partitions) override {
    engine_->PartitionsRevoked(partitions);
  }
  void OnPartitionEnd(int32_t partition) override { engine_->PartitionEnd(partition); }
  // Delivers what is queued (dead letters and alerts) within the drain timeout, then stops the
  // sinks. Idempotent; the pipeline takes no more messages afterwards.
  void Drain() override;

  const RunStats& stats() const { return stats_; }
  const Dispatcher& dispatcher() const { return *dispatcher_; }
  // Null when rejects are only counted.
  const DeadLetters* dead_letters() const { return dead_letters_.get(); }
  const std::vector<std::unique_ptr<Detector>>& detectors() const { return engine_->detectors(); }
  // Alerts refused for good or dropped by some sink.
  uint64_t sink_failures() const;
  // The engine's counters (duplicates, too_late, too_old, clock_ahead, skew).
  const EngineStats& engine_stats() const { return engine_->stats(); }
  // Hosts whose event time is kept now, and how many were evicted (max_hosts). Call on the
  // pipeline thread or after it stopped (metrics read the snapshot of the last Tick).
  const EventClocks& clocks() const { return engine_->clocks(); }
  // One JSON line: {"events":N,"parsed":N,"rejected":N,"rejected_by_reason":{...},
  // "duplicates":N,"too_late":N,"too_old":N,"clock_ahead":N,"alerts":N,"alerts_by_rule":{...},
  // "hosts":N,"host_evictions":N,"state_keys":N,"state_evictions":N,"sink_failures":N,
  // "sinks":{"NAME":{"delivered":N,"failed":N,"retried":N,"dropped":N,"queued":N},...},
  // "seconds":S} (S: from the first message to the start of the drain, the time the events took).
  // Call on the pipeline thread or after it stopped.
  std::string SummaryJson() const;

 private:
  void Emit(Alert alert) override;
  void PublishDetectorState();
  static void Bump(std::atomic<uint64_t>& counter) {
    // Single writer: a plain load/store pair avoids a locked instruction per event.
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::unique_ptr<EventParser> parser_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Dispatcher> dispatcher_;
  size_t max_message_bytes_;
  std::unique_ptr<DeadLetters> dead_letters_;
  Clock& clock_;
  absl::Duration drain_timeout_;
  bool drained_ = false;
  Event event_;             // reused: parsing assigns into its strings without reallocating
  absl::Time broker_time_;  // of the message being processed
  absl::Time first_message_, drain_started_;  // for the summary's "seconds"
  // Kafka timestamps up to here are taken (the wall clock at the last Tick + max_clock_skew).
  absl::Time trusted_until_;
  std::shared_ptr<DeliveryTicket> ticket_;  // its deliveries, created at the first one
  RunStats stats_;
};

}  // namespace faultline
