#include "detect/config.h"

namespace faultline {

using settings::Bound;

std::unique_ptr<settings::Schema<DetectConfig>> NewDetectSchema() {
  static const auto* context =
      &(*new settings::Schema<DetectorContext>("What every detector gets"))
           .StringMap("labels", &DetectorContext::labels,
                      "Added to every alert's labels (team, environment, ...).")
           .Duration("renotify_interval", &DetectorContext::renotify_interval, Bound::kNonNegative,
                     "A firing alert is sent again, as an update, when its count grew, at most "
                     "this often.")
           .Duration("allowed_lateness", &DetectorContext::allowed_lateness, Bound::kNonNegative,
                     "How far behind its own host and channel's newest event an event may be "
                     "and still open or extend an incident; later ones only add to what is "
                     "open (counted too_late otherwise).")
           .Integer("max_keys", &DetectorContext::max_keys, 1, 100'000'000,
                    "Per detector: keys kept (pools, services, ...); beyond it the least "
                    "recently seen are evicted and counted.");
  auto schema = std::make_unique<settings::Schema<DetectConfig>>(
      "Detection: event time per host, deduplication, and each detector's section.");
  schema->Inline(&DetectConfig::context, *context)
      .Duration("dedupe_window", &DetectConfig::dedupe_window, Bound::kNonNegative,
                "A record (host, channel, record id) seen again within this window is a "
                "forwarder redelivery and dropped; 0 disables.")
      .Duration("max_clock_skew", &DetectConfig::max_clock_skew, Bound::kNonNegative,
                "An event logged more than this ahead of its arrival is counted clock_ahead; "
                "the host's measured offset is taken off its times.")
      .Duration("max_event_age", &DetectConfig::max_event_age, Bound::kNonNegative,
                "Events logged more than this before their Kafka timestamp are counted too_old "
                "and skipped; 0: never.")
      .Integer("max_hosts", &DetectConfig::max_hosts, 1, 100'000'000,
               "Hosts whose event time is kept; beyond it the least recently seen are evicted "
               "(counted).");
  return schema;
}

}  // namespace faultline
