#include "app/pipeline.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/log.h"
#include "core/strings.h"

namespace faultline {

uint64_t RunStats::rejected() const {
  uint64_t n = 0;
  for (const auto& c : rejected_by_reason) n += c.load(std::memory_order_relaxed);
  return n;
}

Pipeline::Pipeline(std::unique_ptr<EventParser> parser, std::unique_ptr<Engine> engine,
                   std::unique_ptr<Dispatcher> dispatcher, size_t max_message_bytes,
                   std::unique_ptr<DeadLetters> dead_letters, Clock& clock,
                   absl::Duration drain_timeout)
    : parser_(std::move(parser)),
      engine_(std::move(engine)),
      dispatcher_(std::move(dispatcher)),
      max_message_bytes_(max_message_bytes),
      dead_letters_(std::move(dead_letters)),
      clock_(clock),
      drain_timeout_(drain_timeout) {
  trusted_until_ = clock_.TimeNow() + engine_->options().max_clock_skew;
  PublishDetectorState();
}

absl::Status Pipeline::Start() {
  dispatcher_->Start();
  return absl::OkStatus();
}

std::shared_ptr<const DeliveryTicket> Pipeline::OnMessage(const Message& message) {
  if (stats_.messages.load(std::memory_order_relaxed) == 0) first_message_ = clock_.TimeNow();
  Bump(stats_.messages);
  broker_time_ = message.origin.broker_time;
  ParseError error = message.payload.size() > max_message_bytes_
                         ? ParseError::kTooLarge
                         : parser_->Parse(message.payload, &event_);
  if (error != ParseError::kOk) {
    Bump(stats_.rejected_by_reason[static_cast<int>(error)]);
    if (dead_letters_) {
      ticket_ = std::make_shared<DeliveryTicket>();
      dead_letters_->Publish(message, error, ticket_);
    }
    return std::move(ticket_);
  }
  Bump(stats_.parsed);
  event_.origin = message.origin;
  if (event_.origin.broker_time > trusted_until_) {
    // Not a broker's clock: a producer's, set from a host's (Winlogbeat copies the event time).
    Bump(stats_.broker_time_ahead);
    event_.origin.broker_time = absl::InfinitePast();
  }
  engine_->Process(event_, *this);
  // Null unless an alert was raised: most messages start no delivery.
  return std::move(ticket_);
}

void Pipeline::Emit(Alert alert) {
  Bump(stats_.alerts);
  const absl::Time now = clock_.TimeNow();
  stats_.event_to_alert.Observe(
      std::max(absl::ZeroDuration(), now - FromProtoTime(alert.last_event_time())));
  if (broker_time_ != absl::InfinitePast()) {
    stats_.broker_to_alert.Observe(std::max(absl::ZeroDuration(), now - broker_time_));
  }
  {
    std::lock_guard<std::mutex> lock(stats_.mu);
    RunStats::Alerts& a = stats_.alerts_detail;
    ++a.by_rule_severity_status[{alert.rule(), alert.severity(), alert.status()}];
    int64_t& active = a.active_by_rule[alert.rule()];
    if (alert.status() == "resolved") {
      --active;
    } else if (alert.sequence() == 1) {
      ++active;
    }
  }
  if (!ticket_) ticket_ = std::make_shared<DeliveryTicket>();
  dispatcher_->Submit(std::make_shared<const Alert>(std::move(alert)), ticket_);
}

void Pipeline::PublishDetectorState() {
  std::vector<RunStats::DetectorState> state;
  for (const auto& d : engine_->detectors()) {
    const Detector::Stats s = d->stats();
    state.push_back({std::string(d->name()), s.keys, s.evictions});
  }
  std::lock_guard<std::mutex> lock(stats_.mu);
  stats_.detectors = std::move(state);
  stats_.hosts = engine_->clocks().hosts();
  stats_.host_evictions = engine_->clocks().evictions();
}

void Pipeline::Tick() {
  const absl::Time now = clock_.TimeNow();
  trusted_until_ = now + engine_->options().max_clock_skew;
  stats_.last_tick_unix_ms.store(absl::ToUnixMillis(now), std::memory_order_relaxed);
  PublishDetectorState();
  if (dead_letters_) dead_letters_->Poll();
}

void Pipeline::Drain() {
  if (drained_) return;
  drained_ = true;
  drain_started_ = clock_.TimeNow();
  PublishDetectorState();
  if (dead_letters_) {
    if (absl::Status s = dead_letters_->Flush(drain_timeout_); !s.ok()) LogError(s.message());
  }
  dispatcher_->Stop(drain_timeout_);
  uint64_t undelivered = 0;
  for (const Dispatcher::SinkInfo& sink : dispatcher_->sinks()) {
    undelivered += sink.stats.queued.load();
  }
  if (undelivered > 0) {
    LogWarning(absl::StrCat(
        undelivered, " alert(s) not delivered within ", absl::FormatDuration(drain_timeout_),
        dispatcher_->spool() ? "; they stay in the spool for the next start"
                             : "; their events stay uncommitted and are read again at the next "
                               "start"));
  }
}

uint64_t Pipeline::sink_failures() const {
  uint64_t n = 0;
  for (const Dispatcher::SinkInfo& sink : dispatcher_->sinks()) {
    n += sink.stats.failed.load() + sink.stats.dropped.load();
  }
  return n;
}

std::string Pipeline::SummaryJson() const {
  const RunStats& s = stats_;
  std::string reasons, rules, sinks;
  for (int i = 1; i < kParseErrorCount; ++i) {
    const uint64_t n = s.rejected_by_reason[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    absl::StrAppend(&reasons, reasons.empty() ? "" : ",", "\"",
                    ToAbsl(ParseErrorName(static_cast<ParseError>(i))), "\":", n);
  }
  size_t keys = 0;
  uint64_t evictions = 0;
  for (const auto& d : engine_->detectors()) {
    keys += d->stats().keys;
    evictions += d->stats().evictions;
  }
  {
    std::lock_guard<std::mutex> lock(s.mu);
    std::map<std::string, uint64_t> by_rule;
    for (const auto& [key, n] : s.alerts_detail.by_rule_severity_status) {
      by_rule[std::get<0>(key)] += n;
    }
    for (const auto& [rule, n] : by_rule) {
      absl::StrAppend(&rules, rules.empty() ? "" : ",", "\"", rule, "\":", n);
    }
  }
  for (const Dispatcher::SinkInfo& sink : dispatcher_->sinks()) {
    const SinkStats& st = sink.stats;
    absl::StrAppend(&sinks, sinks.empty() ? "" : ",", "\"", sink.name,
                    "\":{\"delivered\":", st.delivered.load(), ",\"failed\":", st.failed.load(),
                    ",\"retried\":", st.retried.load(), ",\"dropped\":", st.dropped.load(),
                    ",\"queued\":", st.queued.load(), "}");
  }
  const EngineStats& e = engine_->stats();
  // From the first message to the start of the drain (or now, while running).
  const double seconds =
      s.messages.load() == 0
          ? 0
          : absl::ToDoubleSeconds((drained_ ? drain_started_ : clock_.TimeNow()) - first_message_);
  return absl::StrCat("{\"events\":", s.messages.load(), ",\"parsed\":", s.parsed.load(),
                      ",\"rejected\":", s.rejected(), ",\"rejected_by_reason\":{", reasons,
                      "},\"duplicates\":", e.duplicates.load(), ",\"too_late\":", e.too_late.load(),
                      ",\"too_old\":", e.too_old.load(), ",\"clock_ahead\":", e.clock_ahead.load(),
                      ",\"alerts\":", s.alerts.load(), ",\"alerts_by_rule\":{", rules,
                      "},\"hosts\":", engine_->clocks().hosts(),
                      ",\"host_evictions\":", engine_->clocks().evictions(),
                      ",\"state_keys\":", keys, ",\"state_evictions\":", evictions,
                      ",\"sink_failures\":", sink_failures(), ",\"sinks\":{", sinks, "}",
                      ",\"seconds\":", absl::StrFormat("%.3f", seconds), "}");
}

}  // namespace faultline
