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

std::string RunStats::SummaryJson() const {
  std::string reasons;
  for (int i = 1; i < kParseErrorCount; ++i) {
    const uint64_t n = rejected_by_reason[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    absl::StrAppend(&reasons, reasons.empty() ? "" : ",", "\"",
                    ToAbsl(ParseErrorName(static_cast<ParseError>(i))), "\":", n);
  }
  return absl::StrCat("{\"events\":", messages.load(), ",\"parsed\":", parsed.load(),
                      ",\"rejected\":", rejected(), ",\"rejected_by_reason\":{", reasons,
                      "},\"duplicates\":", duplicates.load(), ",\"alerts\":", alerts.load(),
                      ",\"sink_failures\":", sink_failures.load(), "}");
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
  engine_->Process(event_, *this);
  if (engine_->duplicates() != duplicates_before) Bump(stats_.duplicates);
}

void Pipeline::Emit(Alert alert) {
  Bump(stats_.alerts);
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
