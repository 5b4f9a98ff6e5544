// The load generator of the end-to-end benchmark (bench/e2e.py) and of the tests that need a
// fleet at scale: a synthetic Windows fleet producing realistic documents in the real forwarder
// envelopes, with injected incidents of every built-in detector and a ground-truth file.
//
//   loadgen --events N [--hosts H] [--seed S] [--shares wlb8=40,wlb7=20,nxlog=20,fluentbit=20]
//           [--incident-every K] [--hours D | --rate R] [--truth FILE]
//           [--hostile M] [--clock-trouble]
//           (--brokers B --topic T [--partitions P] [--log-append-time]
//            [--create-only | --no-create] | --out FILE)
//
// The fleet: H hosts, each with its own forwarder (an envelope drawn by --shares), forwarder
// delay and clock: most punctual (0.2-5 s), 4% behind Windows Event Forwarding in normal mode
// (a batch every 15 minutes), 4% with a constant lag of 1-45 minutes, 2% cut off for an hour and
// sending the backlog when they come back, and 2% of the punctual ones with a wrong clock (an
// hour or four minutes ahead, half an hour or two hours behind). Each host writes about the same
// rate of background events (logons and logoffs, service state changes, recycles of its default
// pool, DCOM and time-service warnings, other applications' crashes, and now and then a single
// worker failure of a pool that never fails again), and 0.1% of its records reach Kafka twice.
//
// Every K events (in event time) an incident starts, in turn: a burst (3 worker failures of a
// pool), a rapid-fail (a crash seen by Application Error 1000 and WAS 5009, four more failures,
// then WAS 5002), an imminent (4 failures, no disable), a service crash loop (3 terminations,
// Service Control Manager 7031) and a pool failing once on each of 3-5 hosts (fleet). Each worker
// start has its own pid; 10% of the incidents' records are delivered twice. An incident's records
// are seconds apart (ten times closer in a live run). Each incident has
// its own pool or (host, service), so every rule fires exactly once per incident: the ground
// truth (--truth, JSON lines) lists them.
//
// --clock-trouble (the reliability suite's clock scenario) adds two kinds of host, 2% each: a
// forwarder that was down for the first day (or three quarters of a shorter span) and replays
// it when it comes back, and a clock a year ahead (366 days). --hostile M sends M hostile
// messages (bench/hostile.h, made from the record just sent, keyed as it is) after every
// record; they are counted apart ("hostile" in the summary) and never in --events.
//
// Event time: with --hours D (default: N events at half an event per host per second) the
// fleet's last D hours up to now, produced as fast as the broker takes them, each record stamped
// with the time it would have reached Kafka (event time plus its host's delay); with --rate R,
// live: R events per second, stamped by the producer when sent, the incidents only on punctual
// hosts with true clocks (the others' events arrive too late for a short run). A live run's
// records are all rendered first (in memory: N times about 1.7 KB), then sent at their time:
// rendering as it sends, one thread reaches only about 80 k/s on this machine.
//
// Records are keyed by host, as Winlogbeat's output.kafka.key and NXLog's om_kafka are set up
// in practice; partitioned with murmur2 as Java clients do. Prints progress on stderr and a JSON
// summary on stdout.
#include <sys/resource.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "bench/hostile.h"
#include "core/clock.h"
#include "core/kafka/producer.h"
#include "librdkafka/rdkafka.h"

namespace faultline {
namespace {

// ---------------------------------------------------------------------------------------------
// Options.

struct Options {
  uint64_t events = 0;
  int hosts = 1000;
  uint64_t seed = 1;
  std::map<std::string, int> shares = {
      {"wlb8", 40}, {"wlb7", 20}, {"nxlog", 20}, {"fluentbit", 20}};
  uint64_t incident_every = 10'000;
  double hours = 0;  // 0: from events and hosts
  double rate = 0;   // > 0: live
  std::string truth;
  std::string brokers, topic, out;
  int partitions = 12;
  bool log_append_time = false;
  bool create_only = false;    // create the topic and stop (consumers join before the stream)
  bool no_create = false;      // the topic exists
  uint64_t hostile = 0;        // hostile messages after each record (bench/hostile.h)
  bool clock_trouble = false;  // hosts replaying a day, hosts a year ahead
};

[[noreturn]] void Usage(const std::string& error) {
  std::fprintf(stderr,
               "loadgen: %s\n"
               "usage: loadgen --events N [--hosts H] [--seed S] [--shares "
               "wlb8=40,wlb7=20,nxlog=20,fluentbit=20]\n"
               "               [--incident-every K] [--hours D | --rate R] [--truth FILE]\n"
               "               [--hostile M] [--clock-trouble]\n"
               "               (--brokers B --topic T [--partitions P] [--log-append-time]\n"
               "                [--create-only | --no-create] | --out FILE)\n",
               error.c_str());
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--clock-trouble") {
      o.clock_trouble = true;
      continue;
    }
    if (name == "--log-append-time" || name == "--create-only" || name == "--no-create") {
      (name == "--log-append-time" ? o.log_append_time
       : name == "--create-only"   ? o.create_only
                                   : o.no_create) = true;
      continue;
    }
    if (i + 1 >= argc) Usage(name + " needs a value");
    const std::string value = argv[++i];
    auto number = [&](auto* out) {
      if (!absl::SimpleAtoi(value, out)) Usage(name + ": not a number: " + value);
    };
    auto real = [&](double* out) {
      if (!absl::SimpleAtod(value, out)) Usage(name + ": not a number: " + value);
    };
    if (name == "--events") {
      number(&o.events);
    } else if (name == "--hosts") {
      number(&o.hosts);
    } else if (name == "--seed") {
      number(&o.seed);
    } else if (name == "--incident-every") {
      number(&o.incident_every);
    } else if (name == "--hours") {
      real(&o.hours);
    } else if (name == "--rate") {
      real(&o.rate);
    } else if (name == "--hostile") {
      number(&o.hostile);
    } else if (name == "--truth") {
      o.truth = value;
    } else if (name == "--brokers") {
      o.brokers = value;
    } else if (name == "--topic") {
      o.topic = value;
    } else if (name == "--partitions") {
      number(&o.partitions);
    } else if (name == "--out") {
      o.out = value;
    } else if (name == "--shares") {
      o.shares.clear();
      for (absl::string_view item : absl::StrSplit(value, ',')) {
        std::pair<std::string, std::string> kv = absl::StrSplit(item, '=');
        int share = 0;
        if (!absl::SimpleAtoi(kv.second, &share) || share < 0) Usage("--shares: " + value);
        if (kv.first != "wlb8" && kv.first != "wlb7" && kv.first != "nxlog" &&
            kv.first != "fluentbit") {
          Usage("--shares: unknown envelope " + kv.first + " (wlb8, wlb7, nxlog, fluentbit)");
        }
        o.shares[kv.first] = share;
      }
    } else {
      Usage("unknown option " + name);
    }
  }
  if (o.events == 0) Usage("--events is required");
  if (o.hosts < 10) Usage("--hosts must be at least 10");
  if (o.incident_every == 0) Usage("--incident-every must be positive");
  if (o.brokers.empty() == o.out.empty()) Usage("give either --brokers and --topic, or --out");
  if (!o.brokers.empty() && o.topic.empty()) Usage("--topic is required with --brokers");
  if (o.hours > 0 && o.rate > 0) Usage("--hours and --rate exclude each other");
  int total = 0;
  for (const auto& [_, share] : o.shares) total += share;
  if (total == 0) Usage("--shares: all zero");
  return o;
}

// ---------------------------------------------------------------------------------------------
// Text.

void AppendEscaped(std::string* out, std::string_view s) {
  size_t plain = 0;  // the start of the run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char* escape = c == '"'    ? "\\\""
                         : c == '\\' ? "\\\\"
                         : c == '\n' ? "\\n"
                         : c == '\r' ? "\\r"
                         : c == '\t' ? "\\t"
                                     : nullptr;
    if (escape == nullptr) continue;
    out->append(s.data() + plain, i - plain);
    out->append(escape);
    plain = i + 1;
  }
  out->append(s.data() + plain, s.size() - plain);
}

std::string Utf16LeHex(std::string_view s) {
  std::string out;
  for (unsigned char c : s) absl::StrAppendFormat(&out, "%02X00", c);
  return out + "0000";
}

// Times in microseconds since the epoch.
absl::CivilSecond Civil(int64_t us, int offset_minutes = 0) {
  return absl::ToCivilSecond(absl::FromUnixMicros(us) + absl::Minutes(offset_minutes),
                             absl::UTCTimeZone());
}
std::string Iso(int64_t us) {  // 2026-03-10T09:14:03.123Z
  const absl::CivilSecond c = Civil(us);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year(), c.month(), c.day(),
                         c.hour(), c.minute(), c.second(),
                         static_cast<int>((us % 1'000'000) / 1000));
}
std::string Plain(int64_t us, int offset_minutes = 0) {  // 2026-03-10 09:14:03
  const absl::CivilSecond c = Civil(us, offset_minutes);
  return absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d", c.year(), c.month(), c.day(), c.hour(),
                         c.minute(), c.second());
}

// ---------------------------------------------------------------------------------------------
// The fleet.

enum class Envelope { kWinlogbeat8, kWinlogbeat7, kNxlogCe, kFluentBit };
enum class Forwarder { kPunctual, kWef, kLagging, kBacklog };
enum Channel { kSystem, kApplication, kSecurity, kChannels };
constexpr const char* kChannelName[] = {"System", "Application", "Security"};

struct Host {
  std::string name;        // WEB0042.corp.contoso.com
  std::string short_name;  // web0042
  std::string ip, mac, id, agent_id, collector;
  Envelope envelope = Envelope::kWinlogbeat8;
  Forwarder forwarder = Forwarder::kPunctual;
  int64_t lag_us = 0;
  int64_t clock_offset_us = 0;             // logged = true + offset
  int64_t outage_from = 0, outage_to = 0;  // kBacklog
  int tz_minutes = 0;                      // Fluent Bit renders local time with its offset
  uint64_t records[kChannels] = {1000, 1000, 1000};
  uint32_t next_pid = 0;
  int64_t last_arrival = 0;
  std::set<std::string> crash_services;  // (host, service) incidents already placed
};

struct Event {
  int64_t true_us = 0;
  int host = 0;
  Channel channel = kSystem;
  const char* provider = "";
  const char* provider_guid = "";
  int id = 0;
  int level = 4;  // 2 error, 3 warning, 4 information
  const char* task = "";
  std::string message;
  // Named event data, in order (also Fluent Bit's StringInserts); a value starting with '#' is
  // a number in Fluent Bit's inserts.
  std::vector<std::pair<std::string, std::string>> data;
  bool message_is_json = false;  // `message` is already escaped for JSON
  bool duplicate = false;        // deliver this record twice
  bool incident = false;
  bool operator>(const Event& o) const { return true_us > o.true_us; }
};

void AppendMessage(std::string* out, const Event& e) {
  if (e.message_is_json) {
    out->append(e.message);
  } else {
    AppendEscaped(out, e.message);
  }
}

const char* LevelName(int level) {
  return level == 2 ? "error" : level == 3 ? "warning" : "information";
}

constexpr const char* kScm = "Service Control Manager";
constexpr const char* kScmGuid = "{555908d1-a6d7-4695-8e1e-26931d2012f4}";

struct Service {
  const char* key;
  const char* name;
};
constexpr Service kServices[] = {
    {"W3SVC", "World Wide Web Publishing Service"},
    {"MSSQLSERVER", "SQL Server (MSSQLSERVER)"},
    {"Spooler", "Print Spooler"},
    {"WinRM", "Windows Remote Management (WS-Management)"},
    {"AppHostSvc", "Application Host Helper Service"},
    {"MSDTC", "Distributed Transaction Coordinator"},
    {"WAS", "Windows Process Activation Service"},
    {"BITS", "Background Intelligent Transfer Service"},
};

class Fleet {
 public:
  Fleet(const Options& o, int64_t now_us) : o_(o), rng_(o.seed) {
    live_ = o.rate > 0;
    gap_scale_ = live_ ? 1 : 10;
    const double fleet_rate = live_ ? o.rate : 0.5 * o.hosts;  // events per second
    const double seconds = live_         ? static_cast<double>(o.events) / o.rate
                           : o.hours > 0 ? o.hours * 3600
                                         : static_cast<double>(o.events) / fleet_rate;
    // With --hours the rate follows from the events asked for.
    per_host_rate_ = static_cast<double>(o.events) / seconds / o.hosts;
    span_us_ = static_cast<int64_t>(seconds * 1e6);
    t0_ = live_ ? now_us : now_us - span_us_;
    MakeHosts();
    if (live_) {
      // Live, a host's records count only if they arrive within the span (a host 45 minutes
      // behind sends none): the others write faster, so that the records sent make the rate.
      double arriving = 0;
      for (const Host& h : hosts_) {
        arriving += std::clamp(static_cast<double>(end() - ArrivalOf(h, t0_)) / span_us_, 0.0, 1.0);
      }
      per_host_rate_ = o.rate / std::max(arriving, 1.0);
      for (int64_t& next : host_background_next_) next = t0_ + NextGap();
    }
  }

  const std::vector<Host>& hosts() const { return hosts_; }
  int64_t t0() const { return t0_; }
  int64_t end() const { return t0_ + span_us_; }

  // The incidents, placed in event time before the stream starts; their events wait in their
  // hosts' queues. Writes the ground truth.
  void PlaceIncidents(FILE* truth) {
    const uint64_t count = std::max<uint64_t>(1, o_.events / o_.incident_every);
    // Incidents start after a 2% lead-in and end by 85% of the span, and are only placed on
    // hosts whose delay lets all of their records reach Kafka before the last event does.
    const int64_t from = t0_ + span_us_ / 50;
    const int64_t to = std::max(from, t0_ + span_us_ * 85 / 100 - kIncidentLength * gap_scale_);
    for (uint64_t i = 0; i < count; ++i) {
      const int64_t at = from + static_cast<int64_t>((to - from) * (i + 0.5) / count);
      const int type = static_cast<int>(i % 5);
      std::string line;
      switch (type) {
        case 0:
          line = Failures(i, at, 3, false);
          break;
        case 1:
          line = Failures(i, at, 5, true);
          break;
        case 2:
          line = Failures(i, at, 4, false);
          break;
        case 3:
          line = CrashLoop(i, at);
          break;
        case 4:
          line = FleetWide(i, at);
          break;
      }
      if (line.empty()) {
        ++skipped_incidents_;
        continue;
      }
      ++incidents_;
      if (truth != nullptr) std::fprintf(truth, "%s\n", line.c_str());
    }
    for (size_t h = 0; h < hosts_.size(); ++h) ScheduleNext(static_cast<int>(h));
  }

  uint64_t incidents() const { return incidents_; }
  uint64_t skipped_incidents() const { return skipped_incidents_; }

  // The next record in arrival order (a host's next event, or a redelivery): its key, value and
  // arrival. False once the fleet's span has passed.
  bool Next(std::string* key, std::string* value, int64_t* arrival, bool* incident) {
    if (pending_duplicate_) {
      pending_duplicate_ = false;
      *key = duplicate_key_;
      *value = duplicate_value_;
      *arrival = duplicate_arrival_;
      *incident = duplicate_incident_;
      ++duplicates_;
      return true;
    }
    if (ready_.empty()) return false;
    const auto [at, h] = ready_.top();
    // Live, the run ends with its span: a lagging host's last records would come minutes later.
    if (live_ && at > end()) return false;
    ready_.pop();
    Host& host = hosts_[h];
    Event e = TakeNext(h);
    *arrival = at;
    *key = host.name;
    *incident = e.incident;
    Render(e, host, at, value);
    if (e.duplicate || std::bernoulli_distribution(0.001)(rng_)) {
      pending_duplicate_ = true;
      duplicate_key_ = *key;
      duplicate_value_ = *value;
      duplicate_arrival_ = at;
      duplicate_incident_ = e.incident;
    }
    ScheduleNext(h);
    return true;
  }

  uint64_t duplicates() const { return duplicates_; }
  // Incident records still waiting for their turn (when the stream stopped at --events): none,
  // or the ground truth names incidents that were not sent.
  size_t unsent_incident_records() const {
    size_t n = 0;
    for (const auto& q : queues_) n += q.size();
    return n;
  }

 private:
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  // The time between two records of an incident: seconds apart, as IIS restarts a crashing
  // worker and SCM a crashed service; ten times closer in a live run, whose span is a minute.
  int64_t Gap(int64_t lo, int64_t hi) { return Uniform(lo, hi) * gap_scale_ / 10; }
  // The longest incident at gap_scale_ 10 (rapid-fail: 5 failures 15 s apart, then WAS 5002).
  static constexpr int64_t kIncidentLength = 9'000'000;

  void MakeHosts() {
    static constexpr const char* kRoles[] = {"WEB", "WEB", "WEB", "APP", "SQL", "FS", "DC", "EXCH"};
    int total = 0;
    for (const auto& [_, share] : o_.shares) total += share;
    for (int i = 0; i < o_.hosts; ++i) {
      Host h;
      const char* role = kRoles[i % 8];
      h.short_name = absl::AsciiStrToLower(absl::StrFormat("%s%04d", role, i));
      h.name = absl::StrFormat("%s%04d.corp.contoso.com", role, i);
      h.ip = absl::StrFormat("10.%d.%d.%d", 20 + i / 65536, (i / 256) % 256, i % 256);
      h.mac = absl::StrFormat("00-15-5D-%02X-%02X-%02X", (i >> 16) & 255, (i >> 8) & 255, i & 255);
      h.id = absl::StrFormat("%08x-4b1e-4c2a-9d3f-%012x", static_cast<uint32_t>(rng_()),
                             rng_() & 0xffffffffffffULL);
      h.agent_id = absl::StrFormat("%08x-77d1-4e5b-a0c4-%012x", static_cast<uint32_t>(rng_()),
                                   rng_() & 0xffffffffffffULL);
      int pick = static_cast<int>(Uniform(0, total - 1));
      for (const auto& [name, share] : o_.shares) {
        if (pick < share) {
          h.envelope = name == "wlb8"    ? Envelope::kWinlogbeat8
                       : name == "wlb7"  ? Envelope::kWinlogbeat7
                       : name == "nxlog" ? Envelope::kNxlogCe
                                         : Envelope::kFluentBit;
          break;
        }
        pick -= share;
      }
      const int kind = static_cast<int>(Uniform(0, 99));
      h.lag_us = Uniform(200'000, 5'000'000);
      if (kind < 4) {
        h.forwarder = Forwarder::kWef;
        h.collector = "WEC01.corp.contoso.com";
      } else if (kind < 8) {
        h.forwarder = Forwarder::kLagging;
        h.lag_us = Uniform(60, 45 * 60) * 1'000'000;
      } else if (kind < 10) {
        h.forwarder = Forwarder::kBacklog;
        const int64_t length = std::min<int64_t>(3'600'000'000, span_us_ / 5);
        h.outage_from = t0_ + Uniform(0, span_us_ / 2);
        h.outage_to = h.outage_from + length;
      } else if (kind < 12) {
        static constexpr int64_t kOffsets[] = {3600, 240, -1800, -7200};
        h.clock_offset_us = kOffsets[i % 4] * 1'000'000;
      } else if (o_.clock_trouble && kind < 14) {  // a forwarder that replays a day
        h.forwarder = Forwarder::kBacklog;
        h.outage_from = t0_;
        h.outage_to = t0_ + std::min<int64_t>(24 * 3'600'000'000LL, span_us_ * 3 / 4);
      } else if (o_.clock_trouble && kind < 16) {  // a clock a year ahead
        h.clock_offset_us = 366LL * 86'400'000'000LL;
      }
      static constexpr int kZones[] = {0, -300, 60, 330};
      h.tz_minutes = kZones[i % 4];
      h.next_pid = 1000 + static_cast<uint32_t>(Uniform(0, 20000)) * 4;
      host_background_next_.push_back(t0_ + NextGap());
      hosts_.push_back(std::move(h));
    }
    queues_.resize(hosts_.size());
  }

  int64_t NextGap() {
    return static_cast<int64_t>(std::exponential_distribution<double>(per_host_rate_)(rng_) * 1e6) +
           1;
  }

  // When a record of `h` written at `true_us` reaches Kafka.
  int64_t ArrivalOf(const Host& h, int64_t true_us) const {
    switch (h.forwarder) {
      case Forwarder::kPunctual:
        return true_us + h.lag_us;
      case Forwarder::kWef: {
        const int64_t batch = live_ ? std::max<int64_t>(span_us_ / 10, 1) : 15 * 60'000'000LL;
        return t0_ + ((true_us - t0_) / batch + 1) * batch + h.lag_us;
      }
      case Forwarder::kLagging:
        return true_us + h.lag_us;
      case Forwarder::kBacklog:
        if (true_us >= h.outage_from && true_us < h.outage_to) {
          return h.outage_to + (true_us - h.outage_from) / 100;  // the backlog, 100x faster
        }
        return true_us + h.lag_us;
    }
    return true_us;
  }

  // Whether `h` takes an incident spanning [at, at + length): its records arrive by the end,
  // and in a live run only on a punctual host with a true clock.
  bool Eligible(const Host& h, int64_t at, int64_t length, bool exact_clock) const {
    if ((live_ || exact_clock) && (h.forwarder != Forwarder::kPunctual || h.clock_offset_us != 0)) {
      return false;
    }
    return ArrivalOf(h, at + length) < t0_ + span_us_ * 9 / 10;
  }

  int PickHost(int64_t at, int64_t length, bool exact_clock) {
    for (int tries = 0; tries < 10'000; ++tries) {
      const int h = static_cast<int>(Uniform(0, o_.hosts - 1));
      if (Eligible(hosts_[h], at, length, exact_clock)) return h;
    }
    return -1;
  }

  Event Was(int host, int64_t at, int id, const std::string& pool, uint32_t pid) {
    Event e{.true_us = at,
            .host = host,
            .provider = "Microsoft-Windows-WAS",
            .provider_guid = "{524B5D04-133C-4A62-8362-64E8EDB9CE40}",
            .id = id,
            .level = id == 5002   ? 2
                     : id == 5186 ? 4
                                  : 3};
    e.incident = true;
    if (id == 5002) {
      e.message = absl::StrCat("Application pool '", pool,
                               "' is being automatically disabled due to a series of failures in "
                               "the process(es) serving that application pool.");
      e.data = {{"AppPoolID", pool}};
    } else if (id == 5009) {
      e.message = absl::StrFormat(
          "A process serving application pool '%s' terminated unexpectedly. The process id was "
          "'%d'. The process exit code was '0xc0000005'.",
          pool, pid);
      e.data = {
          {"AppPoolID", pool}, {"ProcessID", absl::StrCat("#", pid)}, {"ExitCode", "c0000005"}};
    } else if (id == 5186) {
      e.message = absl::StrFormat(
          "A worker process with process id of '%d' serving application pool '%s' was shutdown "
          "due to inactivity. Application Pool timeout configuration was set to 20 minutes. A new "
          "worker process will be started when needed.",
          pid, pool);
      e.data = {{"ProcessID", absl::StrCat("#", pid)}, {"AppPoolID", pool}};
    } else {
      e.message = absl::StrFormat(
          "A process serving application pool '%s' suffered a fatal communication error with the "
          "Windows Process Activation Service. The process id was '%d'. The data field contains "
          "the error number.",
          pool, pid);
      e.data = {{"AppPoolID", pool}, {"ProcessID", absl::StrCat("#", pid)}, {"Binary", "6D000780"}};
    }
    return e;
  }

  void Queue(Event e) {
    e.duplicate = e.incident && std::bernoulli_distribution(0.1)(rng_);
    queues_[e.host].push(std::move(e));
  }

  std::string TruthLine(uint64_t n, const char* type, const std::vector<const char*>& rules,
                        const Host* host, const std::string& pool, const Service* service,
                        int64_t first_true, const std::vector<int>& fleet_hosts, int count) {
    std::string rules_json;
    for (const char* r : rules)
      absl::StrAppend(&rules_json, rules_json.empty() ? "" : ",", "\"", r, "\"");
    std::string line =
        absl::StrFormat(R"({"incident":%d,"type":"%s","rules":[%s])", n, type, rules_json);
    if (host != nullptr) {
      absl::StrAppend(&line, R"(,"host":")", host->name, R"(","forwarder":")",
                      ForwarderName(host->forwarder), R"(","clock_offset_s":)",
                      host->clock_offset_us / 1'000'000);
    }
    if (!pool.empty()) absl::StrAppend(&line, R"(,"app_pool":")", pool, "\"");
    if (service != nullptr) {
      absl::StrAppend(&line, R"(,"service":")", service->key, R"(","service_name":")",
                      service->name, "\"");
    }
    if (!fleet_hosts.empty()) {
      std::string names;
      for (int h : fleet_hosts) {
        absl::StrAppend(&names, names.empty() ? "" : ",", "\"", hosts_[h].name, "\"");
      }
      absl::StrAppend(&line, R"(,"hosts":[)", names, "]");
    }
    if (count > 0) absl::StrAppend(&line, R"(,"count":)", count);
    absl::StrAppend(&line, R"(,"first_event_true":")", Iso(first_true), "\"}");
    return line;
  }

  static const char* ForwarderName(Forwarder f) {
    switch (f) {
      case Forwarder::kPunctual:
        return "punctual";
      case Forwarder::kWef:
        return "wef";
      case Forwarder::kLagging:
        return "lagging";
      case Forwarder::kBacklog:
        return "backlog";
    }
    return "";
  }

  // `failures` worker failures of a pool of its own, 5-15 s apart; with `disable`, the first is a
  // crash (Application Error 1000 and WAS 5009 of one pid) and WAS 5002 follows the last.
  std::string Failures(uint64_t n, int64_t at, int failures, bool disable) {
    const int h = PickHost(at, kIncidentLength * gap_scale_, false);
    if (h < 0) return "";
    Host& host = hosts_[h];
    static constexpr const char* kApps[] = {"ShopApi", "Checkout", "Intranet", "Reports",
                                            "Auth",    "Search",   "Media",    "Billing"};
    const std::string pool = absl::StrFormat("%s-%05d", kApps[n % 8], n);
    int64_t t = at;
    for (int k = 0; k < failures; ++k) {
      const uint32_t pid = host.next_pid += 4;
      if (disable && k == 0) {
        Event crash{.true_us = t - Gap(1'000'000, 2'000'000),
                    .host = h,
                    .channel = kApplication,
                    .provider = "Application Error",
                    .id = 1000,
                    .level = 2,
                    .task = "Application Crashing Events"};
        crash.incident = true;
        crash.message = absl::StrFormat(
            "Faulting application name: w3wp.exe, version: 10.0.17763.1, time stamp: 0xcfb8a3e1\n"
            "Faulting module name: clr.dll, version: 4.8.4645.0, time stamp: 0x6412a2b9\n"
            "Exception code: 0xc00000fd\nFault offset: 0x0000000000103f6e\n"
            "Faulting process id: 0x%x\nFaulting application path: "
            "c:\\windows\\system32\\inetsrv\\w3wp.exe",
            pid);
        crash.data = {
            {"AppName", "w3wp.exe"},
            {"AppVersion", "10.0.17763.1"},
            {"AppTimeStamp", "cfb8a3e1"},
            {"ModuleName", "clr.dll"},
            {"ModuleVersion", "4.8.4645.0"},
            {"ModuleTimeStamp", "6412a2b9"},
            {"ExceptionCode", "c00000fd"},
            {"FaultingOffset", "0000000000103f6e"},
            {"ProcessId", absl::StrFormat("0x%x", pid)},
            {"ProcessCreationTime", "0x1dab2c6f0e4a1b2"},
            {"AppPath", "c:\\windows\\system32\\inetsrv\\w3wp.exe"},
            {"ModulePath", "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clr.dll"},
            {"IntegratorReportId", "3f1c2a9e-6b0d-4d8e-9f1a-2c7e5b4d8a10"}};
        Queue(std::move(crash));
      }
      Queue(Was(h, t, disable && k == 0 ? 5009 : 5011, pool, pid));
      t += Gap(5'000'000, 15'000'000);
    }
    if (disable) Queue(Was(h, t, 5002, pool, 0));
    const char* type = disable ? "rapid_fail" : failures == 4 ? "imminent" : "burst";
    std::vector<const char*> rules = {"iis_worker_failure_burst"};
    if (failures >= 4) rules.push_back("iis_rapid_fail_imminent");
    if (disable) rules.push_back("iis_app_pool_disabled");
    return TruthLine(n, type, rules, &host, pool, nullptr, at, {}, disable ? failures : 0);
  }

  // Three terminations of one service, 10-20 s apart (SCM 7031, "done this N time(s)").
  std::string CrashLoop(uint64_t n, int64_t at) {
    for (int tries = 0; tries < 100; ++tries) {
      const int h = PickHost(at, kIncidentLength * gap_scale_, false);
      if (h < 0) return "";
      Host& host = hosts_[h];
      const Service& s = kServices[(n / 5 + tries) % std::size(kServices)];
      if (!host.crash_services.insert(s.key).second) continue;
      int64_t t = at;
      for (int k = 1; k <= 3; ++k) {
        Event e{.true_us = t,
                .host = h,
                .provider = kScm,
                .provider_guid = kScmGuid,
                .id = 7031,
                .level = 2};
        e.incident = true;
        e.message = absl::StrFormat(
            "The %s service terminated unexpectedly.  It has done this %d time(s).  The "
            "following corrective action will be taken in 60000 milliseconds: Restart the "
            "service.",
            s.name, k);
        e.data = {
            {"param1", s.name}, {"param2", absl::StrCat(k)},       {"param3", "60000"},
            {"param4", "1"},    {"param5", "Restart the service"}, {"Binary", Utf16LeHex(s.key)}};
        Queue(std::move(e));
        t += Gap(10'000'000, 20'000'000);
      }
      return TruthLine(n, "crash_loop", {"service_crash_loop"}, &host, "", &s, at, {}, 0);
    }
    return "";
  }

  // One pool failing once on each of 3-5 hosts (punctual, true clocks), 5-10 s apart.
  std::string FleetWide(uint64_t n, int64_t at) {
    const int count = static_cast<int>(Uniform(3, 5));
    std::vector<int> members;
    for (int tries = 0; tries < 1000 && static_cast<int>(members.size()) < count; ++tries) {
      const int h = PickHost(at, kIncidentLength * gap_scale_, true);
      if (h < 0) return "";
      if (std::find(members.begin(), members.end(), h) == members.end()) members.push_back(h);
    }
    if (static_cast<int>(members.size()) < count) return "";
    const std::string pool = absl::StrFormat("Payments-%05d", n);
    int64_t t = at;
    for (int h : members) {
      Queue(Was(h, t, 5011, pool, hosts_[h].next_pid += 4));
      t += Gap(5'000'000, 10'000'000);
    }
    return TruthLine(n, "fleet", {"fleet_app_pool_failures"}, nullptr, pool, nullptr, at, members,
                     0);
  }

  // The host's next event: a queued incident event or its next background event, whichever
  // comes first in true time.
  Event TakeNext(int h) {
    auto& queue = queues_[h];
    if (!queue.empty() && queue.top().true_us <= host_background_next_[h]) {
      Event e = queue.top();
      queue.pop();
      return e;
    }
    const int64_t t = host_background_next_[h];
    host_background_next_[h] = t + NextGap();
    return Background(h, t);
  }

  void ScheduleNext(int h) {
    const auto& queue = queues_[h];
    const int64_t t = queue.empty() ? host_background_next_[h]
                                    : std::min(queue.top().true_us, host_background_next_[h]);
    // Live, the host's part ends with the span; otherwise the stream runs on until --events.
    if (live_ && t > end() && queue.empty()) return;
    Host& host = hosts_[h];
    const int64_t at = std::max(ArrivalOf(host, t), host.last_arrival);
    host.last_arrival = at;
    ready_.push({at, h});
  }

  Event Background(int h, int64_t t) {
    Host& host = hosts_[h];
    Event e{.true_us = t, .host = h};
    const int pick = static_cast<int>(Uniform(0, 9999));
    if (pick < 3500) {
      Logon(&e, true);
    } else if (pick < 5000) {
      Logon(&e, false);
    } else if (pick < 6600) {
      const Service& s = kServices[Uniform(0, std::size(kServices) - 1)];
      const bool running = Uniform(0, 1) == 1;
      e.provider = kScm;
      e.provider_guid = kScmGuid;
      e.id = 7036;
      e.message = absl::StrCat("The ", s.name, " service entered the ",
                               running ? "running" : "stopped", " state.");
      e.data = {{"param1", s.name},
                {"param2", running ? "running" : "stopped"},
                {"Binary", Utf16LeHex(absl::StrCat(s.key, running ? "/4" : "/1"))}};
    } else if (pick < 6900) {
      e.provider = kScm;
      e.provider_guid = kScmGuid;
      e.id = 7040;
      e.message =
          "The start type of the Background Intelligent Transfer Service service was changed "
          "from demand start to auto start.";
      e.data = {{"param1", "Background Intelligent Transfer Service"},
                {"param2", "demand start"},
                {"param3", "auto start"},
                {"param4", "BITS"}};
    } else if (pick < 7300) {
      e = Was(h, t, 5186, "DefaultAppPool", host.next_pid += 4);
      e.incident = false;
    } else if (pick < 8200) {
      e.provider = "Microsoft-Windows-DistributedCOM";
      e.provider_guid = "{1B562E86-B7AA-4131-BADC-B6F3A001407E}";
      e.id = 10016;
      e.level = 3;
      e.message =
          "The application-specific permission settings do not grant Local Activation "
          "permission for the COM Server application with CLSID "
          "{D63B10C5-BB46-4990-A94F-E40B9D520160} and APPID "
          "{9CA88EE3-ACB7-47C8-AFC4-AB702511C276} to the user NT AUTHORITY\\SYSTEM SID "
          "(S-1-5-18) from address LocalHost (Using LRPC) running in the application container "
          "Unavailable SID (Unavailable). This security permission can be modified using the "
          "Component Services administrative tool.";
      e.data = {{"param1", "application-specific"},
                {"param2", "Local"},
                {"param3", "Activation"},
                {"param4", "{D63B10C5-BB46-4990-A94F-E40B9D520160}"},
                {"param5", "{9CA88EE3-ACB7-47C8-AFC4-AB702511C276}"},
                {"param6", "NT AUTHORITY"},
                {"param7", "SYSTEM"},
                {"param8", "S-1-5-18"},
                {"param9", "LocalHost (Using LRPC)"}};
    } else if (pick < 8900) {
      e.provider = "Microsoft-Windows-Time-Service";
      e.provider_guid = "{06EDCFEB-0FD0-4E53-ACCA-A6F8BBF81BCB}";
      e.id = 37;
      e.message =
          "The time provider NtpClient is currently receiving valid time data from "
          "dc01.corp.contoso.com (ntp.d|10.20.0.10:123->10.20.0.11:123).";
      e.data = {{"TimeSource", "dc01.corp.contoso.com (ntp.d|10.20.0.10:123->10.20.0.11:123)"}};
    } else if (pick < 9500) {
      e.channel = kApplication;
      e.provider = ".NET Runtime";
      e.id = 1026;
      e.level = 2;
      e.message =
          "Application: ReportWorker.exe\nFramework Version: v4.0.30319\nDescription: The "
          "process was terminated due to an unhandled exception.\nException Info: "
          "System.IO.IOException\n   at System.IO.__Error.WinIOError(Int32, System.String)\n   "
          "at ReportWorker.Program.Main(System.String[])";
      e.data = {{"param1", e.message}};
    } else if (pick < 9995) {
      e.channel = kApplication;
      e.provider = "Application Error";
      e.id = 1000;
      e.level = 2;
      e.task = "Application Crashing Events";
      const uint32_t pid = host.next_pid += 4;
      e.message = absl::StrFormat(
          "Faulting application name: MonitoringAgent.exe, version: 10.20.18053.0\n"
          "Faulting module name: KERNELBASE.dll, version: 10.0.17763.5458\n"
          "Exception code: 0xe0434352\nFaulting process id: 0x%x",
          pid);
      e.data = {{"AppName", "MonitoringAgent.exe"},
                {"AppVersion", "10.20.18053.0"},
                {"ModuleName", "KERNELBASE.dll"},
                {"ModuleVersion", "10.0.17763.5458"},
                {"ExceptionCode", "e0434352"},
                {"FaultingOffset", "000000000003a839"},
                {"ProcessId", absl::StrFormat("0x%x", pid)},
                {"AppPath", "C:\\Program Files\\Microsoft Monitoring Agent\\MonitoringAgent.exe"}};
    } else {
      // One worker failure of a pool that never fails again: no rule may fire on it.
      e = Was(h, t, 5011, absl::StrFormat("Legacy-%s-%06d", host.short_name, ++single_failures_),
              host.next_pid += 4);
      e.incident = false;
    }
    return e;
  }

  void Logon(Event* e, bool on) {
    e->channel = kSecurity;
    e->message_is_json = true;  // written escaped: logons are half the stream
    e->provider = "Microsoft-Windows-Security-Auditing";
    e->provider_guid = "{54849625-5478-4994-A5BA-3E3B0328C30D}";
    e->task = on ? "Logon" : "Logoff";
    const uint64_t logon_id = rng_() & 0xffffff;
    const int user = static_cast<int>(Uniform(1, 5000));
    if (!on) {
      e->id = 4634;
      e->message = absl::StrFormat(
          "An account was logged off.\\n\\nSubject:\\n\\tSecurity ID:\\t\\tS-1-5-21-3623811015-"
          "3361044348-30300820-%d\\n\\tAccount Name:\\t\\tsvc_app%04d\\n\\tAccount "
          "Domain:\\t\\tCONTOSO\\n"
          "\\tLogon ID:\\t\\t0x%X\\n\\nLogon Type:\\t\\t\\t3\\n\\nThis event is generated when a "
          "logon "
          "session is destroyed. It may be positively correlated with a logon event using the "
          "Logon ID value. Logon IDs are only unique between reboots on the same computer.",
          1000 + user, user, logon_id);
      e->data = {
          {"TargetUserSid", absl::StrCat("S-1-5-21-3623811015-3361044348-30300820-", 1000 + user)},
          {"TargetUserName", absl::StrFormat("svc_app%04d", user)},
          {"TargetDomainName", "CONTOSO"},
          {"TargetLogonId", absl::StrFormat("0x%x", logon_id)},
          {"LogonType", "3"}};
      return;
    }
    e->id = 4624;
    e->message = absl::StrFormat(
        "An account was successfully logged on.\\n\\nSubject:\\n\\tSecurity ID:\\t\\tS-1-0-0\\n\\t"
        "Account Name:\\t\\t-\\n\\tAccount Domain:\\t\\t-\\n\\tLogon ID:\\t\\t0x0\\n\\nLogon "
        "Information:\\n"
        "\\tLogon Type:\\t\\t3\\n\\tRestricted Admin Mode:\\t-\\n\\tVirtual "
        "Account:\\t\\tNo\\n\\tElevated "
        "Token:\\t\\tYes\\n\\nImpersonation Level:\\t\\tImpersonation\\n\\nNew "
        "Logon:\\n\\tSecurity ID:\\t\\t"
        "S-1-5-21-3623811015-3361044348-30300820-%d\\n\\tAccount "
        "Name:\\t\\tsvc_app%04d\\n\\tAccount "
        "Domain:\\t\\tCONTOSO\\n\\tLogon ID:\\t\\t0x%X\\n\\tLinked Logon ID:\\t\\t0x0\\n\\tNetwork "
        "Account "
        "Name:\\t-\\n\\tNetwork Account Domain:\\t-\\n\\tLogon GUID:\\t\\t"
        "{00000000-0000-0000-0000-000000000000}\\n\\nProcess Information:\\n\\tProcess "
        "ID:\\t\\t0x0\\n\\t"
        "Process Name:\\t\\t-\\n\\nNetwork Information:\\n\\tWorkstation Name:\\t-\\n\\tSource "
        "Network "
        "Address:\\t10.20.%d.%d\\n\\tSource Port:\\t\\t%d\\n\\nDetailed Authentication "
        "Information:\\n\\t"
        "Logon Process:\\t\\tKerberos\\n\\tAuthentication Package:\\tKerberos\\n\\tTransited "
        "Services:\\t"
        "-\\n\\tPackage Name (NTLM only):\\t-\\n\\tKey Length:\\t\\t0",
        1000 + user, user, logon_id, user / 256, user % 256, 49152 + user);
    e->data = {
        {"SubjectUserSid", "S-1-0-0"},
        {"SubjectUserName", "-"},
        {"SubjectDomainName", "-"},
        {"SubjectLogonId", "0x0"},
        {"TargetUserSid", absl::StrCat("S-1-5-21-3623811015-3361044348-30300820-", 1000 + user)},
        {"TargetUserName", absl::StrFormat("svc_app%04d", user)},
        {"TargetDomainName", "CONTOSO"},
        {"TargetLogonId", absl::StrFormat("0x%x", logon_id)},
        {"LogonType", "3"},
        {"LogonProcessName", "Kerberos"},
        {"AuthenticationPackageName", "Kerberos"},
        {"WorkstationName", "-"},
        {"LogonGuid", "{00000000-0000-0000-0000-000000000000}"},
        {"TransmittedServices", "-"},
        {"LmPackageName", "-"},
        {"KeyLength", "0"},
        {"ProcessId", "0x0"},
        {"ProcessName", "-"},
        {"IpAddress", absl::StrFormat("10.20.%d.%d", user / 256, user % 256)},
        {"IpPort", absl::StrCat(49152 + user)},
        {"ImpersonationLevel", "%%1833"},
        {"RestrictedAdminMode", "-"},
        {"TargetOutboundUserName", "-"},
        {"TargetOutboundDomainName", "-"},
        {"VirtualAccount", "%%1843"},
        {"TargetLinkedLogonId", "0x0"},
        {"ElevatedToken", "%%1842"}};
  }

  // The record as `host`'s forwarder writes it.
  void Render(const Event& e, Host& host, int64_t arrival, std::string* out) {
    const int64_t logged = e.true_us + host.clock_offset_us;
    // Through WEF the record id is the collector's ForwardedEvents log's: one counter for all of
    // its hosts (each host's own System, Application and Security ids would collide there).
    const uint64_t record =
        host.forwarder == Forwarder::kWef ? ++collector_records_ : ++host.records[e.channel];
    out->clear();
    switch (host.envelope) {
      case Envelope::kWinlogbeat8:
      case Envelope::kWinlogbeat7:
        RenderWinlogbeat(e, host, logged, arrival, record, host.envelope == Envelope::kWinlogbeat8,
                         out);
        return;
      case Envelope::kNxlogCe:
        RenderNxlog(e, host, logged, arrival, record, out);
        return;
      case Envelope::kFluentBit:
        RenderFluentBit(e, host, logged, arrival, record, out);
        return;
    }
  }

  static std::string_view Value(const std::string& v) {
    return !v.empty() && v[0] == '#' ? std::string_view(v).substr(1) : std::string_view(v);
  }

  void RenderWinlogbeat(const Event& e, const Host& host, int64_t logged, int64_t arrival,
                        uint64_t record, bool v8, std::string* out) {
    // Winlogbeat on the host, or on the collector for WEF (host.* is then the collector).
    const bool wef = host.forwarder == Forwarder::kWef;
    const std::string& agent_host = wef ? host.collector : host.name;
    const std::string id = v8 ? absl::StrCat("\"", e.id, "\"") : absl::StrCat(e.id);
    absl::StrAppend(
        out, R"({"@timestamp":")", Iso(logged), R"(","agent":{"ephemeral_id":")", host.agent_id,
        R"(","id":")", host.agent_id, R"(","name":")", agent_host,
        R"(","type":"winlogbeat","version":")", v8 ? "8.11.1" : "7.17.13",
        R"("},"ecs":{"version":")", v8 ? "8.0.0" : "1.12.0", R"("},"event":{"action":")", e.task,
        R"(","code":)", id, R"(,"created":")", Iso(arrival), R"(","kind":"event","provider":")",
        e.provider, R"("},"host":{"architecture":"x86_64","hostname":")",
        wef ? "wec01" : host.short_name, R"(","id":")", host.id, R"(","ip":[")",
        wef ? "10.20.0.5" : host.ip, R"(","fe80::5d1b:8c2e:9a41:7f03"],"mac":[")", host.mac,
        R"("],"name":")", agent_host,
        R"x(","os":{"build":"17763.5458","family":"windows","kernel":"10.0.17763.5458 )x"
        R"x((WinBuild.160101.0800)","name":"Windows Server 2019 Datacenter",)x"
        R"("platform":"windows","type":"windows","version":"10.0"}},"log":{"level":")",
        LevelName(e.level), R"("},"message":")");
    AppendMessage(out, e);
    absl::StrAppend(out, R"(","winlog":{"api":")", "wineventlog", R"(","channel":")",
                    wef ? "ForwardedEvents" : kChannelName[e.channel], R"(","computer_name":")",
                    host.name, R"(","event_data":{)");
    bool first = true;
    for (const auto& [name, value] : e.data) {
      absl::StrAppend(out, first ? "" : ",", "\"", name, "\":\"");
      AppendEscaped(out, Value(value));
      out->push_back('"');
      first = false;
    }
    absl::StrAppend(out, R"(},"event_id":)", id, R"(,"keywords":[")",
                    e.channel == kSecurity ? "Audit Success" : "Classic",
                    R"("],"opcode":"Info","process":{"pid":)", e.channel == kSecurity ? 712 : 0,
                    R"(,"thread":{"id":)", 4000 + e.host % 3000, R"(}},"provider_guid":")",
                    e.provider_guid, R"(","provider_name":")", e.provider, R"(","record_id":)",
                    record, R"(,"task":")", e.task, R"("}})");
    // WEF: the channel is ForwardedEvents and the record id the collector's (see Render).
  }

  void RenderNxlog(const Event& e, const Host& host, int64_t logged, int64_t arrival,
                   uint64_t record, std::string* out) {
    const char* type = e.level == 2 ? "ERROR" : e.level == 3 ? "WARNING" : "INFO";
    absl::StrAppend(out, R"({"EventTime":")", Plain(logged), R"(","Hostname":")", host.name,
                    R"(","Keywords":"-9214364837600034816","EventType":")",
                    e.channel == kSecurity ? "AUDIT_SUCCESS" : type, R"(","SeverityValue":)",
                    e.level == 2   ? 4
                    : e.level == 3 ? 3
                                   : 2,
                    R"(,"Severity":")", type, R"(","EventID":)", e.id, R"(,"SourceName":")",
                    e.provider, R"(","ProviderGuid":")", e.provider_guid,
                    R"(","Version":0,"TaskValue":0,"OpcodeValue":0,"RecordNumber":)", record,
                    R"(,"ProcessID":0,"ThreadID":0,"Channel":")", kChannelName[e.channel],
                    R"(","Message":")");
    AppendMessage(out, e);
    out->push_back('"');
    if (e.task[0] != '\0') absl::StrAppend(out, R"(,"Category":")", e.task, "\"");
    for (const auto& [name, value] : e.data) {
      // NXLog CE keeps the first of a repeated key: the header's ProcessID hides the worker's.
      if (name == "ProcessID" || name == "Binary") continue;
      absl::StrAppend(out, ",\"", name, "\":\"");
      AppendEscaped(out, Value(value));
      out->push_back('"');
    }
    absl::StrAppend(out, R"(,"EventReceivedTime":")", Plain(arrival),
                    R"(","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog"})");
  }

  void RenderFluentBit(const Event& e, const Host& host, int64_t logged, int64_t arrival,
                       uint64_t record, std::string* out) {
    const int tz = host.tz_minutes;
    absl::StrAppend(
        out, R"({"@timestamp":)", absl::StrFormat("%.3f", arrival / 1e6), R"(,"ProviderName":")",
        e.provider, R"(","ProviderGuid":")", e.provider_guid, R"(","Qualifiers":"","EventID":)",
        e.id, R"(,"Version":0,"Level":)", e.level,
        R"(,"Task":0,"Opcode":0,"Keywords":"0x80000000000000","TimeCreated":")", Plain(logged, tz),
        absl::StrFormat(" %c%02d%02d", tz < 0 ? '-' : '+', std::abs(tz) / 60, std::abs(tz) % 60),
        R"(","EventRecordID":)", record,
        R"(,"ActivityID":"","RelatedActivityID":"","ProcessID":0,"ThreadID":0,)"
        R"("Channel":")",
        kChannelName[e.channel], R"(","Computer":")", host.name, R"(","UserID":"","Message":")");
    AppendMessage(out, e);
    absl::StrAppend(out, R"(","StringInserts":[)");
    bool first = true;
    for (const auto& [name, value] : e.data) {
      if (name == "Binary") continue;
      out->append(first ? "" : ",");
      first = false;
      if (!value.empty() && value[0] == '#') {
        out->append(Value(value));
      } else {
        out->push_back('"');
        AppendEscaped(out, value);
        out->push_back('"');
      }
    }
    out->append("]}");
  }

  const Options& o_;
  std::mt19937_64 rng_;
  bool live_ = false;
  int64_t gap_scale_ = 10;                  // Gap()'s tenths
  uint64_t collector_records_ = 5'000'000;  // WEC01's ForwardedEvents log
  double per_host_rate_ = 0;
  int64_t span_us_ = 0, t0_ = 0;
  std::vector<Host> hosts_;
  std::vector<int64_t> host_background_next_;
  std::vector<std::priority_queue<Event, std::vector<Event>, std::greater<Event>>> queues_;
  // Hosts by the arrival of their next record.
  std::priority_queue<std::pair<int64_t, int>, std::vector<std::pair<int64_t, int>>,
                      std::greater<std::pair<int64_t, int>>>
      ready_;
  uint64_t incidents_ = 0, skipped_incidents_ = 0, single_failures_ = 0, duplicates_ = 0;
  bool pending_duplicate_ = false, duplicate_incident_ = false;
  std::string duplicate_key_, duplicate_value_;
  int64_t duplicate_arrival_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Output.

uint64_t failed_deliveries = 0;
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++failed_deliveries;
}

// A live run's records, rendered before it starts: rendering a document costs more than
// faultline's reading it, so a generator rendering as it sends cannot keep up with faultline on
// the same cores. Copies into 64 MiB blocks, which never move.
class Arena {
 public:
  std::string_view Add(std::string_view s) {
    if (blocks_.empty() || used_ + s.size() > kBlock) {
      blocks_.push_back(std::make_unique<char[]>(std::max(kBlock, s.size())));
      used_ = 0;
    }
    char* p = blocks_.back().get() + used_;
    std::memcpy(p, s.data(), s.size());
    used_ += s.size();
    return {p, s.size()};
  }

 private:
  static constexpr size_t kBlock = 64 << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0;
};

// This process's CPU time (every thread's), seconds.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Record {
  std::string_view key, value;
  int64_t arrival;
  bool incident;
};

// How fast one thread renders records here (150-180 k/s): a live fleet starts this much later,
// so that its event times begin when its records do.
constexpr double kRenderedPerSecond = 150'000;

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  using namespace faultline;
  const Options o = ParseOptions(argc, argv);
  Clock& clock = RealClock::Get();
  const bool live = o.rate > 0;
  const int64_t lead_us = live ? static_cast<int64_t>(o.events / kRenderedPerSecond * 1e6) : 0;
  Fleet fleet(o, absl::ToUnixMicros(clock.TimeNow()) + lead_us);
  FILE* truth = nullptr;
  if (!o.truth.empty() && (truth = std::fopen(o.truth.c_str(), "w")) == nullptr) {
    std::fprintf(stderr, "loadgen: cannot write %s: %s\n", o.truth.c_str(), std::strerror(errno));
    return 1;
  }
  fleet.PlaceIncidents(truth);
  if (truth != nullptr && std::fclose(truth) != 0) {
    std::fprintf(stderr, "loadgen: cannot write %s\n", o.truth.c_str());
    return 1;
  }

  KafkaClient producer_owner;
  rd_kafka_t* rk = nullptr;
  FILE* out = nullptr;
  if (!o.brokers.empty()) {
    absl::StatusOr<KafkaClient> producer =
        NewKafkaProducer(o.brokers,
                         {{"linger.ms", live ? "5" : "50"},
                          {"batch.size", "1000000"},
                          {"compression.type", "lz4"},
                          {"queue.buffering.max.kbytes", "262144"},
                          {"partitioner", "murmur2_random"},
                          {"enable.idempotence", "false"}},
                         &OnDelivery, nullptr);
    if (!producer.ok()) {
      std::fprintf(stderr, "loadgen: %s\n", std::string(producer.status().message()).c_str());
      return 1;
    }
    producer_owner = *std::move(producer);
    rk = producer_owner.get();
    KafkaProperties configs;
    if (o.log_append_time) configs.push_back({"message.timestamp.type", "LogAppendTime"});
    if (!o.no_create) {
      if (absl::Status s = CreateKafkaTopic(rk, o.topic, o.partitions, configs); !s.ok()) {
        std::fprintf(stderr, "loadgen: %s\n", std::string(s.message()).c_str());
        return 1;
      }
    }
    if (o.create_only) return 0;
  } else {
    out = o.out == "-" ? stdout : std::fopen(o.out.c_str(), "w");
    if (out == nullptr) {
      std::fprintf(stderr, "loadgen: cannot write %s: %s\n", o.out.c_str(), std::strerror(errno));
      return 1;
    }
  }

  // Sends one record: to Kafka stamped `timestamp_ms` (0: by the producer), or to the file.
  auto write = [&](std::string_view key, std::string_view value, int64_t timestamp_ms) {
    if (rk == nullptr) {
      std::fwrite(value.data(), 1, value.size(), out);
      std::fputc('\n', out);
      return true;
    }
    for (;;) {
      const rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "loadgen: produce: %s\n", rd_kafka_err2str(e));
        return false;
      }
      rd_kafka_poll(rk, 10);
    }
    rd_kafka_poll(rk, 0);
    return true;
  };
  absl::Time start = clock.TimeNow();
  double start_cpu = CpuSeconds();
  uint64_t messages = 0, bytes = 0, incident_records = 0, hostile_sent = 0;
  faultline::testing::HostileGenerator hostile(o.seed, 512 << 10);
  // Sends the hostile messages that follow a record, made from it.
  auto send_hostile = [&](std::string_view key, std::string_view value, int64_t timestamp_ms) {
    for (uint64_t k = 0; k < o.hostile; ++k) {
      if (!write(key, hostile.Next(hostile_sent++, value), timestamp_ms)) return false;
    }
    return true;
  };
  auto sent = [&](size_t size, bool incident) {
    ++messages;
    bytes += size;
    incident_records += incident;
    if (messages % 1'000'000 == 0) {
      std::fprintf(stderr, "loadgen: %" PRIu64 " of %" PRIu64 " events, %.0f/s\n", messages,
                   o.events, messages / absl::ToDoubleSeconds(clock.TimeNow() - start));
    }
  };
  std::string key, value;
  int64_t arrival = 0;
  bool incident = false;
  double render_seconds = 0, late_start_seconds = 0;
  if (live) {
    Arena arena;
    std::vector<Record> records;
    while (records.size() < o.events && fleet.Next(&key, &value, &arrival, &incident)) {
      records.push_back({arena.Add(key), arena.Add(value), arrival, incident});
    }
    render_seconds = absl::ToDoubleSeconds(clock.TimeNow() - start);
    std::fprintf(stderr, "loadgen: %zu records rendered in %.1f s\n", records.size(),
                 render_seconds);
    // A record is sent when it reaches Kafka in the fleet's model. A rendering slower than
    // foreseen delays every record alike (their hosts seem that much further behind).
    const int64_t now_us = absl::ToUnixMicros(clock.TimeNow());
    if (now_us < fleet.t0()) clock.SleepFor(absl::Microseconds(fleet.t0() - now_us));
    const int64_t shift_us = std::max<int64_t>(0, now_us - fleet.t0());
    late_start_seconds = shift_us / 1e6;
    start = clock.TimeNow();
    start_cpu = CpuSeconds();
    for (size_t i = 0; i < records.size(); ++i) {
      const Record& r = records[i];
      if ((i & 15) == 0) {
        const int64_t wait = r.arrival + shift_us - absl::ToUnixMicros(clock.TimeNow());
        if (wait > 1000) clock.SleepFor(absl::Microseconds(wait));
      }
      if (!write(r.key, r.value, 0) || !send_hostile(r.key, r.value, 0)) return 1;
      sent(r.value.size(), r.incident);
    }
  } else {
    while (messages < o.events && fleet.Next(&key, &value, &arrival, &incident)) {
      if (!write(key, value, arrival / 1000) || !send_hostile(key, value, arrival / 1000)) {
        return 1;
      }
      sent(value.size(), incident);
    }
  }
  if (rk != nullptr) {
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "loadgen: %d record(s) not delivered within 120 s\n",
                   rd_kafka_outq_len(rk));
      return 1;
    }
    producer_owner.reset();
    if (failed_deliveries > 0) {
      std::fprintf(stderr, "loadgen: %" PRIu64 " record(s) refused by the broker\n",
                   failed_deliveries);
      return 1;
    }
  } else if (std::fflush(out) != 0 || (out != stdout && std::fclose(out) != 0)) {
    std::fprintf(stderr, "loadgen: cannot write %s\n", o.out.c_str());
    return 1;
  }
  const double seconds = absl::ToDoubleSeconds(clock.TimeNow() - start);
  const double cpu_seconds = CpuSeconds() - start_cpu;  // sending (or writing), not rendering
  std::map<std::string, int> envelopes;
  for (const Host& h : fleet.hosts()) {
    ++envelopes[h.envelope == Envelope::kWinlogbeat8   ? "wlb8"
                : h.envelope == Envelope::kWinlogbeat7 ? "wlb7"
                : h.envelope == Envelope::kNxlogCe     ? "nxlog"
                                                       : "fluentbit"];
  }
  std::string hosts_by_envelope;
  for (const auto& [name, n] : envelopes) {
    absl::StrAppend(&hosts_by_envelope, hosts_by_envelope.empty() ? "" : ",", "\"", name, "\":", n);
  }
  std::printf(
      "{\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
      ",\"seconds\":%.2f,\"events_per_second\":%.0f,\"cpu_seconds\":%.2f,\"render_seconds\":%.1f,"
      "\"late_start_seconds\":%.1f,\"hosts\":%d,\"hosts_by_envelope\":{%s},"
      "\"incidents\":%" PRIu64 ",\"incidents_not_placed\":%" PRIu64 ",\"incident_records\":%" PRIu64
      ",\"duplicates\":%" PRIu64 ",\"hostile\":%" PRIu64
      ",\"event_time_from\":\"%s\",\"event_time_to\":\"%s\"}\n",
      messages, bytes, seconds, messages / seconds, cpu_seconds, render_seconds, late_start_seconds,
      o.hosts, hosts_by_envelope.c_str(), fleet.incidents(), fleet.skipped_incidents(),
      incident_records, fleet.duplicates(), hostile_sent, Iso(fleet.t0()).c_str(),
      Iso(fleet.end()).c_str());
  if (fleet.unsent_incident_records() > 0) {
    std::fprintf(stderr,
                 "loadgen: %zu incident record(s) were not sent: the ground truth is wrong\n",
                 fleet.unsent_incident_records());
    return 1;
  }
  if (messages < o.events && o.rate == 0) {
    std::fprintf(stderr,
                 "loadgen: the fleet's span ended after %" PRIu64 " of %" PRIu64 " events\n",
                 messages, o.events);
    return 1;
  }
  return 0;
}
