#include "tests/fleet_stream.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/json_writer.h"

namespace faultline::testing {
namespace {

enum class Kind { kPunctual, kWef, kLagging, kBacklog, kAhead, kBehind, kFuture, kReread };
enum Channel { kSystem = 0, kApplication = 1, kSecurity = 2 };
enum class Format { kWinlogbeat8, kNxlogEe, kNxlogViaLogstash };

struct Host {
  std::string name;
  Kind kind = Kind::kPunctual;
  absl::Duration lag;           // kLagging
  absl::Duration clock_offset;  // what its clock adds to the true time
  bool application_lags = false;
  Format format = Format::kWinlogbeat8;
  uint64_t records[3] = {1000, 5000, 90000};
  absl::Time last_arrival[3] = {absl::InfinitePast(), absl::InfinitePast(), absl::InfinitePast()};
};

// One event to render, in true time.
struct Ev {
  absl::Time when;
  int host = 0;
  Channel channel = kSystem;
  std::string provider;
  int id = 0;
  std::string pool;
  uint32_t pid = 0;
  std::string exit_code;  // "0x..." for WAS 5009
  std::string app;        // Application Error 1000
  std::string exception;
  std::string service_key, service_name;
  int occurrences = 0;
  std::string message;
  bool stamp_1601 = false;  // a time no clock can have
  // Bookkeeping: an incident's event must reach the broker before the stream ends; `rule` is the
  // index of the rule it raises (-1: none; fleet members are sorted out by arrival); a late
  // event has its own arrival, out of its host's order by design.
  int incident = -1;
  int rule = -1;
  bool fleet_member = false;
  std::optional<absl::Time> fixed_arrival;
};

constexpr char kWas[] = "Microsoft-Windows-WAS";
constexpr char kScm[] = "Service Control Manager";

std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string Utf16LeHex(const std::string& ascii_or_utf8) {
  // The keys used here are ASCII or Latin-1 (as UTF-8): enough for "M\xc3\xbcllerSvc".
  std::string out;
  for (size_t i = 0; i < ascii_or_utf8.size(); ++i) {
    unsigned cp = static_cast<unsigned char>(ascii_or_utf8[i]);
    if (cp == 0xC3 && i + 1 < ascii_or_utf8.size()) {
      cp = 0xC0 | (static_cast<unsigned char>(ascii_or_utf8[++i]) & 0x3F);
    }
    absl::StrAppendFormat(&out, "%02X00", cp);
  }
  return out;
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  AppendJsonEscaped(&out, s);
  return out;
}

class Generator {
 public:
  Generator(absl::Time end, uint64_t seed, const std::string& domain)
      : end_(end), t0_(end - absl::Hours(3)), rng_(seed) {
    MakeHosts(domain);
    if (domain != "fleet.contoso.local") pool_suffix_ = "-" + domain.substr(0, domain.find('.'));
  }

  FleetStream Make() {
    Background();
    Incidents();
    Skips();
    Send();
    std::stable_sort(out_.lines.begin(), out_.lines.end(),
                     [](const FleetLine& a, const FleetLine& b) { return a.arrival < b.arrival; });
    return std::move(out_);
  }

 private:
  static constexpr int kHosts = 200;
  static constexpr int kReread = 200;  // the 201st host: a log read again from ten days back

  void MakeHosts(const std::string& domain) {
    for (int i = 0; i <= kReread; ++i) {
      Host h;
      h.name = absl::StrFormat("WEB%03d.%s", i, domain);
      if (i >= 172 && i <= 176) {
        h.kind = Kind::kWef;
      } else if (i >= 177 && i <= 191) {
        h.kind = Kind::kLagging;
        h.lag = absl::Minutes(1) + (absl::Minutes(119) * (i - 177)) / 14;
        if (i >= 186 && i <= 189) h.lag = absl::Minutes(30);  // behind one collector
      } else if (i >= 192 && i <= 196) {
        h.kind = Kind::kBacklog;
      } else if (i == 197) {
        h.kind = Kind::kAhead;
        h.clock_offset = absl::Hours(24);
      } else if (i == 198) {
        h.kind = Kind::kBehind;
        h.clock_offset = -absl::Hours(24);
      } else if (i == 199) {
        h.kind = Kind::kFuture;
        h.clock_offset =
            absl::FromCivil(absl::CivilSecond(2099, 6, 1, 0, 0, 0), absl::UTCTimeZone()) - t0_;
      } else if (i == kReread) {
        h.kind = Kind::kReread;
        h.name = "REREAD01." + domain;
      }
      h.application_lags = i % 7 == 3;
      h.format = i % 10 <= 6   ? Format::kWinlogbeat8
                 : i % 10 <= 8 ? Format::kNxlogEe
                               : Format::kNxlogViaLogstash;
      if (h.clock_offset != absl::ZeroDuration()) h.format = Format::kWinlogbeat8;
      hosts_.push_back(h);
    }
  }

  absl::Duration Jitter(absl::Duration max) {
    return absl::Milliseconds(
        std::uniform_int_distribution<int64_t>(0, absl::ToInt64Milliseconds(max))(rng_));
  }

  // When the host's forwarder gets `e` to the broker. Per (host, channel) in order, as a
  // forwarder reads a channel.
  absl::Time ArrivalOf(const Ev& e, Host& h) {
    absl::Time natural = e.when + Jitter(absl::Seconds(5));
    switch (h.kind) {
      case Kind::kWef: {
        // Windows Event Forwarding, normal mode: a batch every 15 minutes.
        const int64_t batch = absl::ToInt64Seconds(absl::Minutes(15));
        const int64_t since = absl::ToInt64Seconds(e.when - t0_);
        natural = t0_ + absl::Seconds((since / batch + 1) * batch) + Jitter(absl::Seconds(3));
        break;
      }
      case Kind::kLagging:
        natural += h.lag;
        break;
      case Kind::kBacklog:
        // Cut off until an hour into the live window; then the backlog, in order.
        if (e.when < t0_ + absl::Hours(1)) natural = t0_ + absl::Hours(1);
        break;
      case Kind::kAhead:
      case Kind::kBehind:
      case Kind::kFuture:
        natural = e.when;  // exactly: their corrected times are then the true ones
        break;
      case Kind::kReread:
        natural = t0_ + absl::Hours(2);
        break;
      case Kind::kPunctual:
        break;
    }
    if (h.application_lags && e.channel == kApplication) natural += absl::Minutes(3);
    absl::Time& last = h.last_arrival[e.channel];
    const absl::Duration step =
        h.kind == Kind::kBacklog ? absl::Milliseconds(200) : absl::Milliseconds(1);
    if (last != absl::InfinitePast()) natural = std::max(natural, last + step);
    last = natural;
    return natural;
  }

  std::string Render(const Ev& e, const Host& h, uint64_t record, absl::Time arrival) {
    const absl::Time logged = e.when + h.clock_offset;
    const std::string channel = e.channel == kSystem        ? "System"
                                : e.channel == kApplication ? "Application"
                                                            : "Security";
    // Named event data, as "k":"v" pairs.
    std::vector<std::pair<std::string, std::string>> data;
    if (!e.pool.empty()) data.push_back({"AppPoolID", e.pool});
    if (e.pid != 0 && e.app.empty()) data.push_back({"ProcessID", std::to_string(e.pid)});
    if (!e.app.empty()) {
      data.push_back({"AppName", e.app});
      data.push_back({"ModuleName", "clr.dll"});
      data.push_back({"ExceptionCode", e.exception});
      data.push_back({"ProcessId", absl::StrFormat("0x%x", e.pid)});
    }
    if (!e.service_key.empty()) {
      data.push_back({"param1", e.service_name});
      data.push_back({"param2", e.id == 7036 ? "running" : std::to_string(e.occurrences)});
      data.push_back(
          {"Binary", Utf16LeHex(e.id == 7036 ? e.service_key + "/4" : e.service_key) + "0000"});
    }
    std::string fields;
    for (const auto& [k, v] : data) {
      absl::StrAppend(&fields, fields.empty() ? "" : ",", "\"", k, "\":\"", JsonEscape(v), "\"");
    }
    const std::string message = JsonEscape(e.message);
    switch (e.stamp_1601 ? Format::kWinlogbeat8 : h.format) {
      case Format::kWinlogbeat8:
        return absl::StrFormat(
            R"({"@timestamp":"%s","agent":{"type":"winlogbeat","version":"8.11.1"},)"
            R"("event":{"code":"%d","kind":"event","provider":"%s"},"host":{"name":"wec01"},)"
            R"("log":{"level":"warning"},"message":"%s","winlog":{"channel":"%s",)"
            R"("computer_name":"%s","event_data":{%s},"event_id":"%d","provider_name":"%s",)"
            R"("record_id":%d}})",
            e.stamp_1601 ? "1601-01-01T00:00:00.000Z" : Iso(logged), e.id, e.provider, message,
            channel, h.name, fields, e.id, e.provider, record);
      case Format::kNxlogEe: {
        // EE writes ISO 8601 with the host's offset; its header pid is ExecutionProcessID.
        static const absl::TimeZone kPlusOne = absl::FixedTimeZone(3600);
        return absl::StrFormat(
            R"({"EventTime":"%s","Hostname":"%s","Keywords":-9187343239835811840,)"
            R"("EventType":"WARNING","SeverityValue":3,"Severity":"WARNING","EventID":%d,)"
            R"("SourceName":"%s","Channel":"%s","RecordNumber":%d,"ExecutionProcessID":1812,)"
            R"("Message":"%s"%s%s})",
            absl::FormatTime("%Y-%m-%dT%H:%M:%E3S%Ez", logged, kPlusOne), h.name, e.id, e.provider,
            channel, record, message, fields.empty() ? "" : ",", fields);
      }
      case Format::kNxlogViaLogstash:
        // Through Logstash: no EventTime, TimeCreated in UTC, Logstash's own @timestamp.
        return absl::StrFormat(
            R"({"@timestamp":"%s","TimeCreated":"%s","Hostname":"%s","SourceName":"%s",)"
            R"("EventID":%d,"Channel":"%s","RecordNumber":%d,"Level":"3","Message":"%s"%s%s})",
            Iso(arrival), Iso(logged), h.name, e.provider, e.id, channel, record, message,
            fields.empty() ? "" : ",", fields);
    }
    return "";
  }

  // Queues `e` (sent in true-time order by Send, as each forwarder reads its channels).
  void Emit(Ev e, int incident = -1, int rule = -1) {
    e.incident = incident;
    e.rule = rule;
    events_.push_back(std::move(e));
  }

  // Gives every event its arrival, in true-time order per host, renders what reaches the broker
  // before `end`, and works out each incident's expected delays.
  void Send() {
    std::stable_sort(events_.begin(), events_.end(),
                     [](const Ev& a, const Ev& b) { return a.when < b.when; });
    std::map<int, std::vector<std::pair<absl::Time, const Ev*>>> fleet_members;  // by incident
    std::vector<size_t> candidates;  // incidents' routed records: some are delivered twice
    for (const Ev& e : events_) {
      Host& h = hosts_[e.host];
      const uint64_t record = ++h.records[e.channel];
      const absl::Time arrival = e.fixed_arrival ? *e.fixed_arrival : ArrivalOf(e, h);
      if (arrival > end_) {
        if (e.incident != -1) std::abort();  // an incident placed too late for its host's lag
        continue;
      }
      out_.lines.push_back({h.name, Render(e, h, record, arrival), arrival});
      if (h.kind == Kind::kAhead || h.kind == Kind::kFuture) ++out_.clock_ahead_run;
      if (e.incident < 0) continue;  // background, or counted above
      if (e.provider != "Application Error") candidates.push_back(out_.lines.size() - 1);
      if (e.fleet_member) fleet_members[e.incident].push_back({arrival, &e});
      if (e.rule >= 0) Expect(out_.incidents[e.incident], arrival, e);
    }
    for (auto& [incident, members] : fleet_members) {
      FleetIncident& inc = out_.incidents[incident];
      inc.first_true = inc.first_logged = absl::InfiniteFuture();
      inc.first_latest = absl::InfinitePast();
      inc.delay_min = absl::InfiniteDuration();
      inc.delay_max = absl::ZeroDuration();
      for (const auto& [arrival, e] : members) {
        const Host& h = hosts_[e->host];
        inc.clock_ahead |= h.clock_offset > absl::ZeroDuration();
        // A clock running ahead is corrected; the one behind is not.
        const absl::Time at = e->when + std::min(absl::ZeroDuration(), h.clock_offset);
        inc.first_true = inc.first_logged = std::min(inc.first_true, at);
        inc.first_latest = std::max(inc.first_latest, at);
        inc.delay_min = std::min(inc.delay_min, std::max(absl::ZeroDuration(), arrival - at));
        inc.delay_max = std::max(inc.delay_max, std::max(absl::ZeroDuration(), arrival - at));
      }
    }
    // Redeliveries: 100 of the incidents' records sent again 30-120 s later.
    std::shuffle(candidates.begin(), candidates.end(), rng_);
    for (size_t i = 0; i < 100 && i < candidates.size(); ++i) {
      FleetLine copy = out_.lines[candidates[i]];
      copy.arrival = std::min(end_, copy.arrival + absl::Seconds(30) + Jitter(absl::Seconds(90)));
      out_.lines.push_back(std::move(copy));
      ++out_.duplicates;
    }
  }

  void Background() {
    for (int i = 0; i < kHosts; ++i) {
      const absl::Time from = hosts_[i].kind == Kind::kBacklog ? t0_ - absl::Hours(24) : t0_;
      int n = 0;
      for (absl::Time t = from + Jitter(absl::Seconds(120)); t < end_;
           t += absl::Seconds(90) + Jitter(absl::Seconds(60)), ++n) {
        Ev e{.when = t, .host = i};
        switch (n % 4) {
          case 0:
          case 2:
            e.provider = kScm;
            e.id = 7036;
            e.service_key = n % 8 == 0 ? "W3SVC" : "WinRM";
            e.service_name = n % 8 == 0 ? "World Wide Web Publishing Service"
                                        : "Windows Remote Management (WS-Management)";
            e.message = "The " + e.service_name + " service entered the running state.";
            break;
          case 1:
            e.channel = kSecurity;
            e.provider = "Microsoft-Windows-Security-Auditing";
            e.id = 4624;
            e.message = "An account was successfully logged on.";
            break;
          case 3:
            e.channel = kApplication;
            e.provider = "Application Error";
            e.id = 1000;
            e.app = "notepad.exe";
            e.exception = "c0000005";
            e.pid = 4000 + n;
            e.message = "Faulting application name: notepad.exe";
            break;
        }
        Emit(e);
      }
    }
    // The host whose bookmark was reset: its whole log again, ten days old, read at once.
    for (int n = 0; n < 50; ++n) {
      Ev e{.when = t0_ - absl::Hours(24 * 10) + absl::Minutes(n), .host = kReread};
      e.provider = kScm;
      e.id = 7036;
      e.service_key = "WinRM";
      e.service_name = "Windows Remote Management (WS-Management)";
      e.message = "The " + e.service_name + " service entered the running state.";
      Emit(e);
      ++out_.too_old_run;
    }
  }

  uint32_t NextPid() { return pid_ += 4; }

  Ev WasEvent(int host, absl::Time when, int id, const std::string& pool, uint32_t pid) {
    Ev e{.when = when, .host = host, .provider = kWas, .id = id, .pool = pool, .pid = pid};
    if (id == 5002) {
      e.message = "Application pool '" + pool +
                  "' is being automatically disabled due to a series of failures in the "
                  "process(es) serving that application pool.";
    } else if (id == 5009) {
      e.exit_code = "0xc0000005";
      e.message = absl::StrFormat(
          "A process serving application pool '%s' terminated unexpectedly. The process id was "
          "'%d'. The process exit code was '0xc0000005'.",
          pool, pid);
    } else {
      e.message = absl::StrFormat(
          "A process serving application pool '%s' suffered a fatal communication error with "
          "the Windows Process Activation Service. The process id was '%d'.",
          pool, pid);
    }
    return e;
  }

  // The delays of the rule raised by `e`, which arrived at `arrival`.
  void Expect(FleetIncident& inc, absl::Time arrival, const Ev& e) {
    const Host& h = hosts_[e.host];
    inc.delay_logged.push_back(std::max(absl::ZeroDuration(), arrival - (e.when + h.clock_offset)));
    inc.delay_true.push_back(std::max(
        absl::ZeroDuration(),
        arrival - (h.clock_offset > absl::ZeroDuration() ? e.when : e.when + h.clock_offset)));
  }

  FleetIncident Start(const std::string& what, int host, absl::Time first) {
    FleetIncident inc;
    inc.what = absl::StrCat(what, " on ", hosts_[host].name);
    inc.host = hosts_[host].name;
    inc.first_true = first;
    inc.first_logged = first + hosts_[host].clock_offset;
    inc.clock_ahead = hosts_[host].clock_offset > absl::ZeroDuration();
    return inc;
  }

  // The incident `inc` becomes (its events are queued with its index).
  int Add(FleetIncident inc) {
    out_.incidents.push_back(std::move(inc));
    return static_cast<int>(out_.incidents.size()) - 1;
  }

  // Three failures in a minute: iis_worker_failure_burst.
  void Burst(int host, absl::Time at) {
    const std::string pool = absl::StrFormat("Burst%03d", host);
    FleetIncident inc = Start("burst", host, at);
    inc.rules = {"iis_worker_failure_burst"};
    inc.app_pool = pool;
    const int id = Add(std::move(inc));
    for (int k = 0; k < 3; ++k) {
      Emit(WasEvent(host, at + absl::Seconds(30) * k, 5011, pool, NextPid()), id, k == 2 ? 0 : -1);
    }
  }

  // Five failures in two minutes (the first a crash seen by WAS 5009 and by Application Error
  // 1000), then WAS 5002: burst, imminent, disabled with its five failures.
  void RapidFail(int host, absl::Time at) {
    const std::string pool = absl::StrFormat("Shop%03d", host);
    FleetIncident inc = Start("rapid-fail", host, at);
    inc.rules = {"iis_worker_failure_burst", "iis_rapid_fail_imminent", "iis_app_pool_disabled"};
    inc.app_pool = pool;
    inc.count = 5;
    const int id = Add(std::move(inc));
    for (int k = 0; k < 5; ++k) {
      const uint32_t pid = NextPid();
      if (k == 0) {
        Ev crash{.when = at - absl::Seconds(2),
                 .host = host,
                 .channel = kApplication,
                 .provider = "Application Error",
                 .id = 1000,
                 .pid = pid,
                 .app = "w3wp.exe",
                 .exception = "c00000fd"};
        crash.message = "Faulting application name: w3wp.exe";
        Emit(crash, id);
      }
      Emit(WasEvent(host, at + absl::Seconds(30) * k, k == 0 ? 5009 : 5011, pool, pid), id,
           k == 2   ? 0
           : k == 3 ? 1
                    : -1);
    }
    Emit(WasEvent(host, at + absl::Seconds(121), 5002, pool, 0), id, 2);
  }

  // Service Control Manager 7031: three terminations in six minutes, or one saying "done this 3
  // time(s)".
  void CrashLoop(int host, absl::Time at, bool single, const std::string& key = "W3SVC",
                 const std::string& name = "World Wide Web Publishing Service") {
    FleetIncident inc = Start(single ? "crash loop (one 7031)" : "crash loop", host, at);
    inc.rules = {"service_crash_loop"};
    inc.service = key;
    const int id = Add(std::move(inc));
    for (int k = 0; k < (single ? 1 : 3); ++k) {
      Ev e{.when = at + absl::Minutes(3) * k,
           .host = host,
           .provider = kScm,
           .id = 7031,
           .service_key = key,
           .service_name = name,
           .occurrences = single ? 3 : k + 1};
      e.message = absl::StrFormat(
          "The %s service terminated unexpectedly.  It has done this %d time(s).  The following "
          "corrective action will be taken in 60000 milliseconds: Restart the service.",
          name, e.occurrences);
      Emit(e, id, k == (single ? 0 : 2) ? 0 : -1);
    }
  }

  // One failure of `pool` on each host, 20 s apart: fleet_app_pool_failures, raised by the
  // min_hosts-th failure to arrive.
  void Fleet(const std::string& name, const std::vector<int>& hosts, absl::Time at,
             uint32_t min_hosts) {
    // Another fleet's pools are its own (FleetLive-fleet2): a pool's failures across hosts are
    // one incident however many fleets share a topic.
    const std::string pool = name + pool_suffix_;
    FleetIncident inc;
    inc.what = absl::StrCat("pool ", pool, " failing across ", hosts.size(), " hosts");
    inc.rules = {"fleet_app_pool_failures"};
    inc.app_pool = pool;
    inc.first_true = inc.first_logged = at;
    inc.min_hosts = min_hosts;
    inc.hosts = static_cast<uint32_t>(hosts.size());
    const int id = Add(std::move(inc));
    for (size_t k = 0; k < hosts.size(); ++k) {
      Ev e = WasEvent(hosts[k], at + absl::Seconds(20) * k, 5009, pool, NextPid());
      e.fleet_member = true;
      Emit(e, id);
    }
  }

  void Incidents() {
    const absl::Time t = t0_;
    // Punctual hosts.
    Burst(0, t + absl::Minutes(20));
    RapidFail(1, t + absl::Minutes(30));
    CrashLoop(2, t + absl::Minutes(40), false);
    CrashLoop(3, t + absl::Minutes(50), true);
    RapidFail(3, t + absl::Minutes(60));  // its Application channel is 3 minutes behind
    CrashLoop(5, t + absl::Minutes(70), false, "M\xc3\xbcllerSvc", "M\xc3\xbcller Dienst");
    // Lagging hosts: behind WEF batches, a minute to two hours behind.
    RapidFail(172, t + absl::Minutes(70));
    RapidFail(180, t + absl::Minutes(35));
    Burst(185, t + absl::Minutes(45));
    CrashLoop(191, t + absl::Minutes(25), false);
    // Hosts that were cut off: incidents from yesterday and from the outage's last hour.
    RapidFail(192, t - absl::Hours(20));
    CrashLoop(193, t - absl::Hours(10), false);
    Burst(194, t + absl::Minutes(30));
    // Wrong clocks.
    RapidFail(197, t + absl::Minutes(80));
    Burst(198, t + absl::Minutes(90));
    CrashLoop(199, t + absl::Minutes(100), false);
    // Pools failing across the fleet: punctual hosts; four hosts behind one collector, half an
    // hour late; the five cut-off hosts, yesterday; three punctual hosts and the two whose
    // clocks run ahead.
    Fleet("FleetLive", {10, 11, 12, 13}, t + absl::Minutes(110), 3);
    Fleet("FleetLagging", {186, 187, 188, 189}, t + absl::Minutes(40), 3);
    Fleet("FleetBacklog", {192, 193, 194, 195, 196}, t - absl::Hours(5), 3);
    Fleet("FleetSkew", {20, 197, 21, 199, 22}, t + absl::Minutes(120), 3);
  }

  void Skips() {
    // Times no clock can have.
    for (int k = 0; k < 20; ++k) {
      Ev e{.when = t0_ + absl::Minutes(5 * k),
           .host = 50 + k,
           .provider = kScm,
           .id = 7036,
           .service_key = "WinRM",
           .service_name = "Windows Remote Management (WS-Management)",
           .message = "The WinRM service entered the running state.",
           .stamp_1601 = true};
      e.incident = -2;  // must be sent (rendered as Winlogbeat, whatever the host's forwarder)
      events_.push_back(std::move(e));
      ++out_.bad_time;
    }
    // Failures of pools with no incident, half an hour older than their host's latest WAS
    // event (a worker of another pool shut down for idleness: what moves its clock is what
    // detectors take).
    for (int k = 0; k < 15; ++k) {
      const absl::Time arrive = t0_ + absl::Minutes(150) + absl::Seconds(10) * k;
      Ev idle = WasEvent(30 + k, arrive - absl::Seconds(1), 5186, "IdlePool", NextPid());
      idle.message = "A worker process serving application pool 'IdlePool' was shut down.";
      idle.fixed_arrival = arrive - absl::Seconds(1);
      idle.incident = -2;
      events_.push_back(std::move(idle));
      Ev e = WasEvent(30 + k, arrive - absl::Minutes(30), 5011, absl::StrFormat("LatePool%02d", k),
                      NextPid());
      e.fixed_arrival = arrive;
      events_.push_back(std::move(e));
      ++out_.too_late;
    }
  }

  absl::Time end_, t0_;
  std::mt19937_64 rng_;
  std::string pool_suffix_;  // another fleet's pools: "-fleet2"
  std::vector<Host> hosts_;
  uint32_t pid_ = 10'000;
  std::vector<Ev> events_;
  FleetStream out_;
};

}  // namespace

FleetStream MakeFleetStream(absl::Time end, uint64_t seed, const std::string& domain) {
  return Generator(end, seed, domain).Make();
}

}  // namespace faultline::testing
