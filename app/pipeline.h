// The per-message path, wired from the three stages: bytes -> EventParser -> Engine -> sinks.
// It is the MessageHandler a Source drives, so it runs on the source's thread; when OnMessage
// returns, the message's alerts have been handed to every sink and the source may commit past it.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "detect/engine.h"
#include "ingest/dead_letters.h"
#include "ingest/parse/parser.h"
#include "ingest/source.h"
#include "sinks/sink.h"

namespace faultline {

// Counters of one run. Written by the pipeline thread only; readable from another thread
// (progress reports) through relaxed atomics.
struct RunStats {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> parsed{0};
  std::array<std::atomic<uint64_t>, kParseErrorCount> rejected_by_reason{};
  std::atomic<uint64_t> duplicates{0};  // parsed, but a redelivery of a record already seen
  std::atomic<uint64_t> alerts{0};
  std::atomic<uint64_t> too_late{0};  // parsed, but older than the allowed lateness
  std::atomic<uint64_t> sink_failures{0};
  // By rule name; written and read on the pipeline thread only.
  std::map<std::string, uint64_t> alerts_by_rule;

  uint64_t rejected() const;
};

class Pipeline final : public MessageHandler, private AlertOutput {
 public:
  // `dead_letters` may be null: rejects are then only counted.
  Pipeline(std::unique_ptr<EventParser> parser, std::unique_ptr<Engine> engine,
           std::vector<std::unique_ptr<Sink>> sinks, size_t max_message_bytes,
           std::unique_ptr<DeadLetters> dead_letters = nullptr);

  void OnMessage(const Message& message) override;
  // Flushes every sink and the dead letters; call once the source has stopped.
  void Flush();
  const RunStats& stats() const { return stats_; }
  const std::vector<std::unique_ptr<Detector>>& detectors() const { return engine_->detectors(); }
  // One JSON line: {"events":N,"parsed":N,"rejected":N,"rejected_by_reason":{...},
  // "duplicates":N,"too_late":N,"alerts":N,"alerts_by_rule":{...},"state_keys":N,
  // "state_evictions":N,"sink_failures":N}. Call on the pipeline thread or after it stopped.
  std::string SummaryJson() const;

 private:
  void Emit(Alert alert) override;
  static void Bump(std::atomic<uint64_t>& counter) {
    // Single writer: a plain load/store pair avoids a locked instruction per event.
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::unique_ptr<EventParser> parser_;
  std::unique_ptr<Engine> engine_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  size_t max_message_bytes_;
  std::unique_ptr<DeadLetters> dead_letters_;
  Event event_;  // reused: parsing assigns into its strings without reallocating
  RunStats stats_;
};

}  // namespace faultline
