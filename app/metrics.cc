#include "app/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "app/build_info.h"
#include "app/metrics_endpoint.h"
#include "core/strings.h"
#include "sinks/spool/spool.h"

namespace faultline {
namespace {

using prometheus::MetricType;
using Labels = std::vector<prometheus::ClientMetric::Label>;

double Load(const std::atomic<uint64_t>& v) {
  return static_cast<double>(v.load(std::memory_order_relaxed));
}

// The snapshots of several histograms (one per worker) as one.
template <typename Histogram>
LatencyHistogram::Snapshot Merged(const std::vector<const Histogram*>& histograms) {
  LatencyHistogram::Snapshot all;
  for (const Histogram* h : histograms) {
    const LatencyHistogram::Snapshot s = h->Read();
    if (all.cumulative.empty()) all.cumulative.assign(s.cumulative.size(), 0);
    for (size_t i = 0; i < s.cumulative.size(); ++i) all.cumulative[i] += s.cumulative[i];
    all.sum_seconds += s.sum_seconds;
    all.count += s.count;
  }
  return all;
}

void AddLatency(std::vector<prometheus::MetricFamily>* out, std::string name, std::string help,
                const std::vector<const LatencyHistogram*>& histograms) {
  prometheus::MetricFamily f = Family(std::move(name), std::move(help), MetricType::Histogram);
  const LatencyHistogram::Snapshot s = Merged(histograms);
  AddHistogram(&f, {LatencyHistogram::kBounds.begin(), LatencyHistogram::kBounds.end()},
               s.cumulative, s.sum_seconds, {});
  out->push_back(std::move(f));
}

}  // namespace

void CollectProcessMetrics(std::vector<prometheus::MetricFamily>* out) {
  // /proc/self/stat: fields after the command name (which may contain spaces) in parentheses.
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    std::vector<std::string> f = absl::StrSplit(stat.substr(close + 2), ' ');
    // f[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
    if (f.size() > 21) {
      const auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
      const auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
      auto field = [&](int n) { return std::stod(f[n - 3]); };
      prometheus::MetricFamily cpu =
          Family("process_cpu_seconds_total", "User and system CPU time spent, seconds.",
                 MetricType::Counter);
      AddSample(&cpu, (field(14) + field(15)) / tick);
      out->push_back(std::move(cpu));
      // The boot time (btime in /proc/stat) plus the start in ticks after boot.
      std::ifstream proc_stat("/proc/stat");
      double boot = -1;
      for (std::string key; proc_stat >> key;) {
        if (key == "btime") {
          proc_stat >> boot;
          break;
        }
      }
      if (boot >= 0) {
        prometheus::MetricFamily start =
            Family("process_start_time_seconds",
                   "Start time of the process since the Unix epoch, seconds.", MetricType::Gauge);
        AddSample(&start, boot + field(22) / tick);
        out->push_back(std::move(start));
      }
      prometheus::MetricFamily vsize =
          Family("process_virtual_memory_bytes", "Virtual memory size, bytes.", MetricType::Gauge);
      AddSample(&vsize, field(23));
      out->push_back(std::move(vsize));
      prometheus::MetricFamily rss = Family("process_resident_memory_bytes",
                                            "Resident memory size, bytes.", MetricType::Gauge);
      AddSample(&rss, field(24) * page);
      out->push_back(std::move(rss));
    }
  }
  double fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) fds += e->d_name[0] != '.';
    ::closedir(d);
    prometheus::MetricFamily open =
        Family("process_open_fds", "Open file descriptors.", MetricType::Gauge);
    AddSample(&open, fds - 1);  // not counting the one reading the directory
    out->push_back(std::move(open));
  }
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    prometheus::MetricFamily max =
        Family("process_max_fds", "Maximum open file descriptors.", MetricType::Gauge);
    AddSample(&max, static_cast<double>(limit.rlim_cur));
    out->push_back(std::move(max));
  }
}

std::vector<prometheus::MetricFamily> FaultlineMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  auto counter = [&](std::string name, std::string help, double value) {
    prometheus::MetricFamily f = Family(std::move(name), std::move(help), MetricType::Counter);
    AddSample(&f, value);
    out.push_back(std::move(f));
  };
  auto gauge = [&](std::string name, std::string help, double value) {
    prometheus::MetricFamily f = Family(std::move(name), std::move(help), MetricType::Gauge);
    AddSample(&f, value);
    out.push_back(std::move(f));
  };

  prometheus::MetricFamily info =
      Family("faultline_build_info", "faultline's version and the libraries it was built with.",
             MetricType::Gauge);
  Labels build;
  for (const auto& [name, value] : BuildInfo()) build.push_back({name, value});
  AddSample(&info, 1, std::move(build));
  out.push_back(std::move(info));

  // Ingest and detection: every worker's counters summed.
  auto run = [this](std::atomic<uint64_t> RunStats::*c) {
    double n = 0;
    for (const Pipeline* p : pipelines_) n += Load(p->stats().*c);
    return n;
  };
  auto engine = [this](std::atomic<uint64_t> EngineStats::*c) {
    double n = 0;
    for (const Pipeline* p : pipelines_) n += Load(p->engine_stats().*c);
    return n;
  };
  counter("faultline_events_consumed_total", "Messages read from the sources.",
          run(&RunStats::messages));
  counter("faultline_events_parsed_total", "Messages parsed into Windows events.",
          run(&RunStats::parsed));
  prometheus::MetricFamily rejected =
      Family("faultline_events_rejected_total",
             "Messages rejected as malformed, by reason (dead-lettered when a topic is set).",
             MetricType::Counter);
  for (int i = 1; i < kParseErrorCount; ++i) {
    double n = 0;
    for (const Pipeline* p : pipelines_) n += Load(p->stats().rejected_by_reason[i]);
    AddSample(&rejected, n, {{"reason", std::string(ParseErrorName(static_cast<ParseError>(i)))}});
  }
  out.push_back(std::move(rejected));
  counter("faultline_events_duplicate_total",
          "Events dropped as redeliveries of a record already seen (dedupe_window).",
          engine(&EngineStats::duplicates));
  counter("faultline_events_too_late_total",
          "Events a detector wanted, older than their own host's newest by more than the allowed "
          "lateness, that no detector could still use.",
          engine(&EngineStats::too_late));
  counter("faultline_events_too_old_total",
          "Events logged more than max_event_age before their Kafka timestamp, skipped.",
          engine(&EngineStats::too_old));
  counter("faultline_events_clock_ahead_total",
          "Events logged more than max_clock_skew ahead of their arrival (a host clock running "
          "ahead; its offset is taken off its times).",
          engine(&EngineStats::clock_ahead));
  counter("faultline_broker_time_ahead_total",
          "Kafka timestamps ahead of the wall clock by more than max_clock_skew, not taken as "
          "arrival time (a producer stamping records with a host's clock).",
          run(&RunStats::broker_time_ahead));
  {
    prometheus::MetricFamily skew =
        Family("faultline_event_clock_skew_seconds",
               "Event time minus arrival time, every event: negative when it arrived late, "
               "positive when it was stamped ahead.",
               MetricType::Histogram);
    std::vector<const SkewHistogram*> skews;
    for (const Pipeline* p : pipelines_) skews.push_back(&p->engine_stats().skew);
    const LatencyHistogram::Snapshot h = Merged(skews);
    AddHistogram(&skew, {SkewHistogram::kBounds.begin(), SkewHistogram::kBounds.end()},
                 h.cumulative, h.sum_seconds, {});
    out.push_back(std::move(skew));
  }
  {
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> alerts_by;
    std::map<std::string, int64_t> active_by_rule;
    std::map<std::string, RunStats::DetectorState> detectors;
    double hosts = 0, host_evictions = 0;
    for (const Pipeline* p : pipelines_) {
      const RunStats& s = p->stats();
      std::lock_guard<std::mutex> lock(s.mu);
      for (const auto& [key, n] : s.alerts_detail.by_rule_severity_status) alerts_by[key] += n;
      for (const auto& [rule, n] : s.alerts_detail.active_by_rule) active_by_rule[rule] += n;
      for (const RunStats::DetectorState& d : s.detectors) {
        RunStats::DetectorState& all = detectors[d.detector];
        all.keys += d.keys;
        all.evictions += d.evictions;
      }
      hosts += static_cast<double>(s.hosts);
      host_evictions += static_cast<double>(s.host_evictions);
    }
    prometheus::MetricFamily alerts =
        Family("faultline_alerts_total", "Alerts raised, by rule, severity and status.",
               MetricType::Counter);
    for (const auto& [key, n] : alerts_by) {
      AddSample(&alerts, static_cast<double>(n),
                {{"rule", std::get<0>(key)},
                 {"severity", std::get<1>(key)},
                 {"status", std::get<2>(key)}});
    }
    out.push_back(std::move(alerts));
    prometheus::MetricFamily active =
        Family("faultline_incidents_active",
               "Alerts firing now (fired and not yet resolved), by rule.", MetricType::Gauge);
    for (const auto& [rule, n] : active_by_rule) {
      AddSample(&active, static_cast<double>(n), {{"rule", rule}});
    }
    out.push_back(std::move(active));
    prometheus::MetricFamily keys =
        Family("faultline_detector_state_keys",
               "Keys held in detector state (pools, services, ...).", MetricType::Gauge);
    prometheus::MetricFamily evictions = Family(
        "faultline_detector_state_evictions_total",
        "Keys evicted from detector state because max_keys was reached.", MetricType::Counter);
    for (const auto& [name, d] : detectors) {
      AddSample(&keys, static_cast<double>(d.keys), {{"detector", name}});
      AddSample(&evictions, static_cast<double>(d.evictions), {{"detector", name}});
    }
    out.push_back(std::move(keys));
    out.push_back(std::move(evictions));
    gauge("faultline_hosts", "Source hosts whose event time is kept (bounded by max_hosts).",
          hosts);
    counter("faultline_host_evictions_total",
            "Hosts forgotten, least recently seen first, because max_hosts was reached.",
            host_evictions);
  }
  std::vector<const LatencyHistogram*> event_to_alert, broker_to_alert;
  for (const Pipeline* p : pipelines_) {
    event_to_alert.push_back(&p->stats().event_to_alert);
    broker_to_alert.push_back(&p->stats().broker_to_alert);
  }
  AddLatency(&out, "faultline_event_to_alert_seconds",
             "From the last event of an alert (event time) to the alert being raised.",
             event_to_alert);
  AddLatency(&out, "faultline_broker_to_alert_seconds",
             "From the Kafka append of the message that raised an alert to the alert.",
             broker_to_alert);

  // Sinks.
  const Dispatcher& dispatcher = pipelines_.front()->dispatcher();  // the workers share it
  struct SinkFamily {
    const char* name;
    const char* help;
    MetricType type;
    std::function<double(const SinkStats&, size_t capacity)> value;
  };
  const SinkFamily sink_families[] = {
      {"faultline_sink_delivered_total", "Alerts delivered, by sink.", MetricType::Counter,
       [](const SinkStats& st, size_t) { return Load(st.delivered); }},
      {"faultline_sink_failed_total",
       "Alerts the destination refused for good (e.g. HTTP 400), by sink.", MetricType::Counter,
       [](const SinkStats& st, size_t) { return Load(st.failed); }},
      {"faultline_sink_retries_total", "Alert deliveries tried again after a retryable failure.",
       MetricType::Counter, [](const SinkStats& st, size_t) { return Load(st.retried); }},
      {"faultline_sink_dropped_total", "Alerts dropped because the sink's queue was full.",
       MetricType::Counter, [](const SinkStats& st, size_t) { return Load(st.dropped); }},
      {"faultline_sink_queue_depth", "Alerts waiting in the sink's queue (the one in flight too).",
       MetricType::Gauge, [](const SinkStats& st, size_t) { return Load(st.queued); }},
      {"faultline_sink_queue_capacity", "The sink queue's capacity.", MetricType::Gauge,
       [](const SinkStats&, size_t capacity) { return static_cast<double>(capacity); }},
  };
  for (const SinkFamily& sf : sink_families) {
    prometheus::MetricFamily f = Family(sf.name, sf.help, sf.type);
    for (const Dispatcher::SinkInfo& sink : dispatcher.sinks()) {
      AddSample(&f, sf.value(sink.stats, sink.capacity),
                {{"sink", sink.name}, {"type", sink.type}});
    }
    out.push_back(std::move(f));
  }
  {
    prometheus::MetricFamily f =
        Family("faultline_sink_delivery_seconds",
               "From an alert entering a sink's queue to its delivery.", MetricType::Histogram);
    for (const Dispatcher::SinkInfo& sink : dispatcher.sinks()) {
      const LatencyHistogram::Snapshot h = sink.stats.latency.Read();
      AddHistogram(&f, {LatencyHistogram::kBounds.begin(), LatencyHistogram::kBounds.end()},
                   h.cumulative, h.sum_seconds, {{"sink", sink.name}, {"type", sink.type}});
    }
    out.push_back(std::move(f));
  }
  if (dispatcher.spooled()) {
    // Zeros while the spool has not opened (its write errors say why).
    const Spool* spool = dispatcher.spool();
    auto stat = [spool](std::atomic<uint64_t> Spool::Stats::*s) {
      return spool != nullptr ? Load(spool->stats().*s) : 0.0;
    };
    gauge("faultline_spool_bytes", "Bytes on disk in the delivery spool.",
          stat(&Spool::Stats::bytes));
    gauge("faultline_spool_segments", "Segment files in the delivery spool.",
          stat(&Spool::Stats::segments));
    counter("faultline_spool_recovered_total",
            "Undelivered alerts found in the spool at start (redelivered).",
            stat(&Spool::Stats::recovered));
    counter("faultline_spool_write_errors_total",
            "Failed spool opens and appends (retried; commits wait meanwhile).",
            static_cast<double>(dispatcher.spool_write_errors()));
  }

  // Kafka.
  if (!sources_.empty()) {
    auto kafka = [this](std::atomic<uint64_t> KafkaSource::Stats::*c) {
      double n = 0;
      for (const KafkaSource* k : sources_) n += Load(k->stats().*c);
      return n;
    };
    counter("faultline_kafka_commits_total", "Offset commits sent to the group coordinator.",
            kafka(&KafkaSource::Stats::commits));
    counter("faultline_kafka_commit_failures_total", "Offset commits that failed (retried).",
            kafka(&KafkaSource::Stats::commit_failures));
    counter("faultline_kafka_rebalances_total", "Partition assignments and revocations.",
            kafka(&KafkaSource::Stats::rebalances));
    counter("faultline_kafka_consumer_errors_total", "Errors librdkafka delivered as messages.",
            kafka(&KafkaSource::Stats::consumer_errors));
    counter("faultline_kafka_backpressure_pauses_total",
            "Times consumption paused because a sink queue was full.",
            kafka(&KafkaSource::Stats::pauses));
    counter("faultline_kafka_restores_total",
            "Assigned partitions read again from before their commit to rebuild the detectors' "
            "windows.",
            kafka(&KafkaSource::Stats::restores));
    counter("faultline_kafka_restores_cut_total",
            "Restores that may lack records: the partition's log started within their span "
            "(deleted by retention, which goes by the records' own times, or by hand).",
            kafka(&KafkaSource::Stats::restores_cut));
    counter("faultline_kafka_replayed_messages_total",
            "Messages read again by restores (state rebuilt, nothing sent).",
            kafka(&KafkaSource::Stats::replayed));
    if (pipelines_.front()->pool_records() != nullptr) {
      counter("faultline_pool_forwarded_total",
              "Failures sent to ingest.pool_topic for the fleet detector.",
              run(&RunStats::pool_forwarded));
      counter("faultline_pool_records_read_total",
              "Records of ingest.pool_topic read (failures and heartbeats).",
              run(&RunStats::pool_records));
      counter("faultline_pool_records_rejected_total",
              "Records of ingest.pool_topic that did not decode (dead-lettered).",
              run(&RunStats::pool_rejected));
      counter("faultline_pool_end_checks_failed_total",
              "Times the input's end offsets could not be asked of the broker: the fleet "
              "detector's clock waits for partitions read to their end meanwhile.",
              run(&RunStats::end_check_failures));
    }
    bool paused = false;
    for (const KafkaSource* k : sources_) paused = paused || k->stats().paused.load();
    gauge("faultline_kafka_paused", "1 while consumption is paused by back-pressure.",
          paused ? 1 : 0);
    prometheus::MetricFamily lag = Family(
        "faultline_kafka_consumer_lag",
        "Messages in the partition after the last one processed (high watermark - position).",
        MetricType::Gauge);
    prometheus::MetricFamily position =
        Family("faultline_kafka_position_offset", "The offset after the last processed message.",
               MetricType::Gauge);
    prometheus::MetricFamily committed =
        Family("faultline_kafka_committed_offset",
               "The last commit position: never past an event whose alerts are not yet delivered.",
               MetricType::Gauge);
    prometheus::MetricFamily in_flight =
        Family("faultline_kafka_uncommitted_messages_with_alerts",
               "Processed messages whose alerts are still being delivered (they hold the commit).",
               MetricType::Gauge);
    // Each partition is one worker's; for a second after a rebalance between workers, the
    // snapshot of the one it left may still list it: one series each, the first kept.
    std::vector<KafkaSource::PartitionStats> partitions;
    std::set<std::pair<std::string, int32_t>> listed;
    for (const KafkaSource* k : sources_) {
      for (KafkaSource::PartitionStats& p : k->partitions()) {
        if (listed.emplace(p.topic, p.partition).second) partitions.push_back(std::move(p));
      }
    }
    for (const KafkaSource::PartitionStats& p : partitions) {
      const Labels labels = {{"topic", p.topic}, {"partition", absl::StrCat(p.partition)}};
      if (p.high_watermark >= 0 && p.processed >= 0) {
        AddSample(&lag, static_cast<double>(std::max<int64_t>(0, p.high_watermark - p.processed)),
                  labels);
      }
      // -1: not known yet (nothing processed, nothing committed by this member).
      if (p.processed >= 0) AddSample(&position, static_cast<double>(p.processed), labels);
      if (p.committed >= 0) AddSample(&committed, static_cast<double>(p.committed), labels);
      AddSample(&in_flight, static_cast<double>(p.in_flight), labels);
    }
    out.push_back(std::move(lag));
    out.push_back(std::move(position));
    out.push_back(std::move(committed));
    out.push_back(std::move(in_flight));
  }
  // The records produced besides alerts: dead letters, the rekey role's events, the pool topic's.
  struct Output {
    const RecordOutput* (Pipeline::*records)() const;
    const char* name;
    const char* noun;
    const char* topic;
  };
  for (const Output& o :
       {Output{&Pipeline::dead_letters, "dead_letters", "Dead letters", "ingest.dead_letter_topic"},
        Output{&Pipeline::rekeyed, "rekeyed", "Rekeyed events",
               "ingest.rekey_topic, keyed by host"},
        Output{&Pipeline::pool_records, "pool_records", "Failures and heartbeats",
               "ingest.pool_topic, keyed by application pool"}}) {
    if ((pipelines_.front()->*o.records)() == nullptr) continue;
    auto records = [&](std::atomic<uint64_t> RecordOutputStats::*c) {
      double n = 0;
      for (const Pipeline* p : pipelines_) n += Load((p->*o.records)()->stats().*c);
      return n;
    };
    const std::string prefix = absl::StrCat("faultline_", o.name);
    counter(prefix + "_delivered_total", absl::StrCat(o.noun, " written to ", o.topic, "."),
            records(&RecordOutputStats::delivered));
    counter(prefix + "_failed_total",
            absl::StrCat(o.noun, " the broker refused for good (too large, not authorized)."),
            records(&RecordOutputStats::failed));
    counter(prefix + "_retried_total",
            absl::StrCat(o.noun, " produced again after a failure a retry can fix."),
            records(&RecordOutputStats::retried));
    counter(prefix + "_dropped_total",
            absl::StrCat(o.noun, " the local producer refused (a record too large for it)."),
            records(&RecordOutputStats::dropped));
  }
  CollectProcessMetrics(&out);
  return out;
}

}  // namespace faultline
