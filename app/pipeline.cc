#include "app/pipeline.h"

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/strings.h"

namespace faultline {

uint64_t RunStats::rejected() const {
  uint64_t n = 0;
  for (const auto& c : rejected_by_reason) n += c.load(std::memory_order_relaxed);
  return n;
}

std::string Pipeline::SummaryJson() const {
  const RunStats& s = stats_;
  std::string reasons, rules;
  for (int i = 1; i < kParseErrorCount; ++i) {
    const uint64_t n = s.rejected_by_reason[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    absl::StrAppend(&reasons, reasons.empty() ? "" : ",", "\"",
                    ToAbsl(ParseErrorName(static_cast<ParseError>(i))), "\":", n);
  }
  for (const auto& [rule, n] : s.alerts_by_rule) {
    absl::StrAppend(&rules, rules.empty() ? "" : ",", "\"", rule, "\":", n);
  }
  size_t keys = 0;
  uint64_t evictions = 0;
  for (const auto& d : engine_->detectors()) {
    keys += d->stats().keys;
    evictions += d->stats().evictions;
  }
  return absl::StrCat("{\"events\":", s.messages.load(), ",\"parsed\":", s.parsed.load(),
                      ",\"rejected\":", s.rejected(), ",\"rejected_by_reason\":{", reasons,
                      "},\"duplicates\":", s.duplicates.load(), ",\"too_late\":", s.too_late.load(),
                      ",\"alerts\":", s.alerts.load(), ",\"alerts_by_rule\":{", rules,
                      "},\"state_keys\":", keys, ",\"state_evictions\":", evictions,
                      ",\"sink_failures\":", s.sink_failures.load(), "}");
}

Pipeline::Pipeline(std::unique_ptr<EventParser> parser, std::unique_ptr<Engine> engine,
                   std::vector<std::unique_ptr<Sink>> sinks, size_t max_message_bytes,
                   std::unique_ptr<DeadLetters> dead_letters)
    : parser_(std::move(parser)),
      engine_(std::move(engine)),
      sinks_(std::move(sinks)),
      max_message_bytes_(max_message_bytes),
      dead_letters_(std::move(dead_letters)) {}

void Pipeline::OnMessage(const Message& message) {
  Bump(stats_.messages);
  ParseError error = message.payload.size() > max_message_bytes_
                         ? ParseError::kTooLarge
                         : parser_->Parse(message.payload, &event_);
  if (error != ParseError::kOk) {
    Bump(stats_.rejected_by_reason[static_cast<int>(error)]);
    if (dead_letters_) dead_letters_->Publish(message, error);
    return;
  }
  Bump(stats_.parsed);
  event_.origin = message.origin;
  const uint64_t duplicates_before = engine_->duplicates();
  const uint64_t too_late_before = engine_->too_late();
  engine_->Process(event_, *this);
  if (engine_->duplicates() != duplicates_before) Bump(stats_.duplicates);
  if (engine_->too_late() != too_late_before) Bump(stats_.too_late);
}

void Pipeline::Emit(Alert alert) {
  Bump(stats_.alerts);
  ++stats_.alerts_by_rule[alert.rule()];
  for (const auto& sink : sinks_) {
    if (absl::Status s = sink->Send(alert); !s.ok()) {
      // Counted always; logged for the first few so a broken sink is visible but not a flood.
      if (stats_.sink_failures.load(std::memory_order_relaxed) < 10) {
        LogError(absl::StrCat("sink ", ToAbsl(sink->name()), ": ", s.message()));
      }
      Bump(stats_.sink_failures);
    }
  }
}

void Pipeline::Flush() {
  if (dead_letters_) {
    if (absl::Status s = dead_letters_->Flush(absl::Seconds(10)); !s.ok()) LogError(s.message());
  }
  for (const auto& sink : sinks_) {
    if (absl::Status s = sink->Flush(); !s.ok()) {
      LogError(absl::StrCat("sink ", ToAbsl(sink->name()), ": ", s.message()));
      Bump(stats_.sink_failures);
    }
  }
}

}  // namespace faultline
