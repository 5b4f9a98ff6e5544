// `faultline demo`: the whole service on a bundled incident, with nothing to install. It starts
// librdkafka's in-process mock cluster, publishes the incident of exchange_owa_incident.jsonl
// (Exchange's MSExchangeOWAAppPool: a worker stack overflow seen by WAS 5009 and Application
// Error 1000, four WAS 5011 within two minutes, then WAS 5002) as Winlogbeat 8 would, consumes
// it through the same Service and Kafka source as `faultline run`, prints the alerts on stdout
// and the summary on stderr.
#pragma once

#include <atomic>
#include <string_view>

#include "absl/status/status.h"

namespace faultline {

// The incident as Winlogbeat 8 JSON lines (compiled in from demo/exchange_owa_incident.jsonl).
extern const std::string_view kDemoIncidentJsonl;

// Runs the demo until the topic is consumed to its end, `stop` turns true (kCancelled), or 60 s
// pass: the demo must end by itself even if the mock cluster misbehaves (its watchdog then sets
// `stop`: kDeadlineExceeded). `json`: alerts as JSON lines (the stable alert shape), not text.
absl::Status RunDemo(bool json, std::atomic<bool>& stop);

}  // namespace faultline
