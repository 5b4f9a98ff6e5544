#include "detect/engine.h"

#include <algorithm>
#include <functional>

#include "detect/testing/collecting_output.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace faultline {
namespace {

using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

// Records what the engine hands it; `use_late` decides what OnLateEvent claims.
class CountingDetector final : public Detector {
 public:
  explicit CountingDetector(std::vector<EventKey> keys) : keys_(std::move(keys)) {}
  std::string_view name() const override { return "counting"; }
  std::vector<EventKey> Subscriptions() const override { return keys_; }
  absl::Duration horizon() const override { return absl::ZeroDuration(); }
  bool Wants(const Event& event) override {
    ++asked;
    return !wants || wants(event);
  }
  void OnEvent(const Event& event, AlertOutput& out) override {
    seen.push_back(event.event_id);
    times.push_back(event.time);
    refs.push_back(HostRef{event.host_clock});
    if (alert_on_event) {
      Alert a;
      a.set_rule("counting");
      a.set_host(event.host);
      a.set_summary("Something happened.");
      *a.mutable_last_event_time() = ToProtoTime(event.time);
      out.Emit(std::move(a));
    }
  }
  bool OnLateEvent(const Event& event, AlertOutput&) override {
    late.push_back(event.event_id);
    return use_late;
  }
  void OnWatermark(const Watermarks& w, AlertOutput&) override {
    arrivals.push_back(w.Arrival());
    for (const std::string& h : watched) host_watermarks[h].push_back(w.Host(h));
  }
  Stats stats() const override { return {}; }
  void Forget(const absl::flat_hash_set<std::string>& hosts) override {
    forgotten.insert(forgotten.end(), hosts.begin(), hosts.end());
  }

  std::vector<std::string> forgotten;
  std::vector<uint32_t> seen, late;
  std::vector<absl::Time> times, arrivals;
  std::vector<HostRef> refs;
  std::vector<std::string> watched;
  std::map<std::string, std::vector<absl::Time>> host_watermarks;
  bool use_late = false;
  bool alert_on_event = false;
  std::function<bool(const Event&)> wants;  // Wants(); none: every event
  int asked = 0;

 private:
  std::vector<EventKey> keys_;
};

Event MakeEvent(Provider p, uint32_t id) {
  Event e;
  e.provider = p;
  e.event_id = id;
  return e;
}

TEST(EngineTest, RoutesOnlySubscribedProviderAndIdPairs) {
  auto was = std::make_unique<CountingDetector>(std::vector<EventKey>{{Provider::kWas, 5002}});
  auto both = std::make_unique<CountingDetector>(
      std::vector<EventKey>{{Provider::kWas, 5002}, {Provider::kW3svc, 1002}});
  CountingDetector* was_ptr = was.get();
  CountingDetector* both_ptr = both.get();
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(std::move(was));
  detectors.push_back(std::move(both));
  Engine engine(std::move(detectors));
  CollectingOutput out;
  for (Event e : {MakeEvent(Provider::kWas, 5002), MakeEvent(Provider::kW3svc, 1002),
                  MakeEvent(Provider::kW3svc, 5002), MakeEvent(Provider::kOther, 5002)}) {
    e.time = kT0;
    engine.Process(e, out);
  }
  EXPECT_EQ(was_ptr->seen, (std::vector<uint32_t>{5002}));
  EXPECT_EQ(both_ptr->seen, (std::vector<uint32_t>{5002, 1002}));
}

std::unique_ptr<Engine> CountingEngine(CountingDetector** out, EngineOptions options = {}) {
  auto d = std::make_unique<CountingDetector>(std::vector<EventKey>{{Provider::kWas, 5011}});
  *out = d.get();
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(std::move(d));
  return std::make_unique<Engine>(std::move(detectors), options);
}

// A WAS 5011 of `host` logged at kT0 + at. `arrive` (if set) is its Kafka timestamp; without one
// the engine runs on the stream clock, as in replay.
Event Record(uint64_t record, absl::Duration at, std::string host = "h",
             std::optional<absl::Duration> arrive = std::nullopt, std::string channel = "System") {
  Event e = MakeEvent(Provider::kWas, 5011);
  e.host = std::move(host);
  e.channel = std::move(channel);
  e.record_id = record;
  e.time = kT0 + at;
  if (arrive) e.origin.broker_time = kT0 + *arrive;
  return e;
}

// Feeds a copy (the engine writes the corrected time and arrival into what it is given).
void Feed(Engine& engine, Event e, AlertOutput& out) { engine.Process(e, out); }

// A detector subscribed to every event is asked first; what it does not want takes the short
// path (no repeat check, no host clock), as an event no detector subscribes to does.
TEST(EngineTest, AnEveryEventDetectorDeclinesEventsBeforeTheEnginesPerHostWork) {
  auto owned = std::make_unique<CountingDetector>(std::vector<EventKey>{EventKey::Every()});
  CountingDetector* d = owned.get();
  d->wants = [](const Event& e) { return e.record_id % 2 == 1; };
  std::vector<std::unique_ptr<Detector>> detectors;
  detectors.push_back(std::move(owned));
  Engine engine(std::move(detectors));
  CollectingOutput out;
  Feed(engine, Record(1, absl::Seconds(0)), out);
  Feed(engine, Record(1, absl::Seconds(0)), out);  // a repeat of a wanted record: dropped
  Feed(engine, Record(2, absl::Seconds(1)), out);  // not wanted
  Feed(engine, Record(2, absl::Seconds(1)), out);  // not wanted, so not even a repeat
  Feed(engine, Record(3, absl::Seconds(2)), out);
  EXPECT_EQ(d->asked, 5);
  EXPECT_EQ(d->seen.size(), 2u);
  EXPECT_EQ(engine.stats().duplicates.load(), 1u);
}

TEST(EngineDedupeTest, DropsARecordSeenAgainWithinTheWindow) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Seconds(0)), out);
  Feed(*engine, Record(1, absl::Seconds(0)), out);  // redelivered: the same record, logged once
  Feed(*engine, Record(2, absl::Seconds(6)), out);
  Feed(*engine, Record(1, absl::Seconds(7), "other-host"), out);
  EXPECT_EQ(d->seen.size(), 3u);
  EXPECT_EQ(engine->stats().duplicates.load(), 1u);
}

TEST(EngineStateTest, ARevokedPartitionsHostsAreForgottenAndItsRecordsAreNewIfItComesBack) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  engine->PartitionsAssigned({0, 1});
  Event a = Record(1, absl::Seconds(0), "on-zero", absl::Seconds(1));
  a.origin.partition = 0;
  Event b = Record(1, absl::Seconds(0), "on-one", absl::Seconds(1));
  b.origin.partition = 1;
  Feed(*engine, a, out);
  Feed(*engine, b, out);
  engine->PartitionsRevoked({0});
  EXPECT_THAT(d->forgotten, ::testing::ElementsAre("on-zero"));
  EXPECT_EQ(engine->clocks().hosts(), 1u);
  // Given back later and read again from before its commit (a restore): its records rebuild
  // the state they had, not duplicates of what this member saw before.
  engine->PartitionsAssigned({0});
  Feed(*engine, a, out);
  Feed(*engine, b, out);  // partition 1 stayed: still a repeat
  EXPECT_EQ(d->seen.size(), 3u);
  EXPECT_EQ(engine->stats().duplicates.load(), 1u);
}

TEST(EngineStateTest, APartitionGivenBackReplaysOnItsOwnClockNotTheOneItHadBefore) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  engine->PartitionsAssigned({0});
  // `ahead` logs 30 minutes ahead of its broker times, a minute apart: corrected to them.
  auto read = [&](int from, int to) {
    d->times.clear();
    for (int m = from; m <= to; ++m) {
      Event e = Record(m + 1, absl::Minutes(m + 30), "ahead", absl::Minutes(m));
      e.origin.partition = 0;
      Feed(*engine, e, out);
    }
    return d->times;
  };
  const std::vector<absl::Time> first = read(0, 40);
  ASSERT_EQ(first.size(), 41u);
  // Revoked, given back and read again from its start (a restore): the replay is judged on the
  // partition's own clock, so the host's times come out as they did the first time. A clock
  // left at the 40 minutes it stood at took the replayed stamps for on time, uncorrected, and
  // an incident rebuilt from them started elsewhere (another fingerprint).
  engine->PartitionsRevoked({0});
  engine->PartitionsAssigned({0});
  EXPECT_EQ(engine->clocks().PartitionNow(0), absl::InfinitePast());
  EXPECT_EQ(read(0, 40), first);
  EXPECT_EQ(engine->clocks().PartitionNow(0), kT0 + absl::Minutes(40));
}

TEST(EngineDedupeTest, ForgetsRecordsOlderThanTheWindowInArrivalTime) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  for (int i = 0; i < 1000; ++i) {
    Feed(*engine, Record(i + 1, absl::Minutes(i), "h", absl::Minutes(i)), out);
  }
  EXPECT_LE(engine->remembered_records(), 12u) << "bounded by the window, not the stream";
  // A record id reused much later (a cleared log).
  Feed(*engine, Record(1, absl::Minutes(1000), "h", absl::Minutes(1000)), out);
  EXPECT_EQ(d->seen.size(), 1001u);
  EXPECT_EQ(engine->stats().duplicates.load(), 0u);
}

TEST(EngineDedupeTest, ARedeliveryIsADuplicateHoweverLateItIs) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(0), "h", absl::Minutes(0)), out);
  Feed(*engine, Record(2, absl::Minutes(5), "h", absl::Minutes(5)), out);
  Feed(*engine, Record(1, absl::Minutes(0), "h", absl::Minutes(6)), out);  // 5 min late, again
  EXPECT_EQ(engine->stats().duplicates.load(), 1u);
  EXPECT_EQ(engine->stats().too_late.load(), 0u) << "counted once, as what it is";
  EXPECT_TRUE(d->late.empty());
}

TEST(EngineDedupeTest, NeverDropsEventsWithoutARecordId) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  Feed(*engine, Record(0, absl::Seconds(0)), out);
  Feed(*engine, Record(0, absl::Seconds(0)), out);
  EXPECT_EQ(d->seen.size(), 2u);
}

TEST(EngineLatenessTest, JudgesLatenessAgainstTheHostsOwnProgress) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(10), "h"), out);
  Feed(*engine, Record(2, absl::Minutes(8), "h"), out);                     // 2 min late: in
  Feed(*engine, Record(3, absl::Minutes(8) - absl::Seconds(1), "h"), out);  // beyond: late
  EXPECT_EQ(d->seen.size(), 2u);
  EXPECT_EQ(d->late, (std::vector<uint32_t>{5011}));
  EXPECT_EQ(engine->stats().too_late.load(), 1u) << "no detector used it";
}

TEST(EngineLatenessTest, AnotherHostFarAheadMakesNoEventLate) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(10), "fast", absl::Minutes(10)), out);  // 10 min ahead
  Feed(*engine, Record(2, absl::Hours(1), "other", absl::Hours(1)), out);
  // A host whose forwarder is an hour behind everyone, on the same partition.
  for (int i = 0; i < 5; ++i) {
    Feed(*engine, Record(10 + i, absl::Minutes(i), "lagging", absl::Hours(1) + absl::Minutes(i)),
         out);
  }
  EXPECT_EQ(d->seen.size(), 7u);
  EXPECT_EQ(engine->stats().too_late.load(), 0u);
}

TEST(EngineLatenessTest, EachChannelOfAHostKeepsItsOwnPace) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(10), "h", std::nullopt, "System"), out);
  // Winlogbeat reads Application on its own: 3 minutes behind System.
  Feed(*engine, Record(2, absl::Minutes(7), "h", std::nullopt, "Application"), out);
  Feed(*engine, Record(3, absl::Minutes(7), "h", std::nullopt, "System"), out);  // System: late
  EXPECT_EQ(d->seen.size(), 2u);
  EXPECT_EQ(engine->stats().too_late.load(), 1u);
}

TEST(EngineLatenessTest, ALateEventADetectorUsesIsNotCountedTooLate) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  d->use_late = true;
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(10)), out);
  Feed(*engine, Record(2, absl::Minutes(1)), out);
  EXPECT_EQ(d->late.size(), 1u);
  EXPECT_EQ(engine->stats().too_late.load(), 0u);
}

TEST(EngineClockTest, AHostAheadOfItsBrokerTimeIsCorrectedAndCounted) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  // Its clock runs a day ahead; its forwarder is punctual.
  for (int i = 0; i < 3; ++i) {
    Feed(*engine, Record(1 + i, absl::Hours(24) + absl::Minutes(i), "fast-clock", absl::Minutes(i)),
         out);
  }
  EXPECT_EQ(engine->stats().clock_ahead.load(), 3u);
  ASSERT_EQ(d->times.size(), 3u);
  EXPECT_EQ(d->times[0], kT0) << "placed at its arrival";
  EXPECT_EQ(d->times[2] - d->times[0], absl::Minutes(2)) << "its spacing kept";
  EXPECT_EQ(engine->clocks().ClockOffset("fast-clock"), absl::Hours(24));
  // A punctual host beside it is not touched.
  Feed(*engine, Record(10, absl::Minutes(3), "punctual", absl::Minutes(3)), out);
  EXPECT_EQ(d->times.back(), kT0 + absl::Minutes(3));
  EXPECT_EQ(engine->clocks().ClockOffset("punctual"), absl::ZeroDuration());
}

TEST(EngineClockTest, OneStrayStampMovesNothing) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  d->watched = {"h", "other"};
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(0), "h", absl::Minutes(0)), out);
  Feed(*engine, Record(2, absl::Minutes(1), "other", absl::Minutes(1)), out);
  // One event stamped in 2099.
  Event stray = Record(3, absl::Minutes(2), "h", absl::Minutes(2));
  stray.time = absl::FromUnixSeconds(4'070'908'800);
  Feed(*engine, stray, out);
  EXPECT_EQ(engine->stats().clock_ahead.load(), 1u);
  EXPECT_LE(d->times.back(), kT0 + absl::Minutes(2)) << "not in 2099 for the detectors";
  // The host's next events are on time, with no offset left.
  Feed(*engine, Record(4, absl::Minutes(3), "h", absl::Minutes(3)), out);
  EXPECT_EQ(d->times.back(), kT0 + absl::Minutes(3));
  EXPECT_EQ(engine->clocks().ClockOffset("h"), absl::ZeroDuration());
  EXPECT_EQ(engine->stats().too_late.load(), 0u);
  EXPECT_LT(engine->clocks().stream_now(), kT0 + absl::Hours(1)) << "nor anyone's arrival clock";
}

TEST(EngineClockTest, AClockPutRightIsFollowed) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Hours(24), "h", absl::Minutes(0)), out);  // a day ahead
  Feed(*engine, Record(2, absl::Hours(24) + absl::Minutes(1), "h", absl::Minutes(1)), out);
  // NTP puts it right: its stamps drop back a day.
  Feed(*engine, Record(3, absl::Minutes(2), "h", absl::Minutes(2)), out);
  Feed(*engine, Record(4, absl::Minutes(3), "h", absl::Minutes(3)), out);
  EXPECT_EQ(d->seen.size(), 4u);
  EXPECT_EQ(engine->stats().too_late.load(), 0u);
  EXPECT_EQ(d->times.back(), kT0 + absl::Minutes(3));
}

TEST(EngineClockTest, EventsFarOlderThanTheirBrokerTimeAreTooOld) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  const absl::Duration now = absl::Hours(24 * 30);
  Feed(*engine, Record(1, now - absl::Hours(24 * 8), "h", now), out);  // a reset bookmark
  Feed(*engine, Record(2, now - absl::Hours(24 * 6), "h", now), out);  // a backlog: fine
  EXPECT_EQ(engine->stats().too_old.load(), 1u);
  EXPECT_EQ(d->seen.size(), 1u);
  // Without a broker time (replay) nothing is too old: the file is what the user asked for.
  CountingDetector* r;
  auto replay = CountingEngine(&r);
  Feed(*replay, Record(1, absl::Hours(0)), out);
  Feed(*replay, Record(2, absl::Hours(24 * 30)), out);
  Feed(*replay, Record(3, absl::Hours(1)), out);
  EXPECT_EQ(replay->stats().too_old.load(), 0u);
}

TEST(EngineClockTest, TheStreamClockIgnoresOneHostsFutureAndJudgesIt) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  for (int i = 0; i < 2000; ++i) {
    Feed(*engine, Record(i + 1, absl::Seconds(i), "host" + std::to_string(i % 10)), out);
    if (i % 200 == 199) {
      Event future = Record(10'000 + i, absl::Hours(24 * 365 * 70), "broken");
      Feed(*engine, future, out);
    }
  }
  EXPECT_LE(engine->clocks().stream_now(), kT0 + absl::Seconds(2000));
  EXPECT_GE(engine->clocks().stream_now(), kT0 + absl::Seconds(1600)) << "recomputed every 256";
  // A stream clock of ten hosts is one to judge a clock by (replay has no broker time).
  EXPECT_EQ(engine->stats().clock_ahead.load(), 10u);
  EXPECT_GT(engine->clocks().ClockOffset("broken"), absl::Hours(24 * 365 * 69));
  EXPECT_LE(d->times.back(), engine->clocks().stream_now()) << "its event, in the stream's time";
}

TEST(EngineClockTest, AHostAheadBeforeAnythingCouldJudgeItKeepsItsSpacing) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  // Replay: "fast" runs a day ahead and is among the first lines, while the stream clock has
  // too few hosts to judge it; then ten punctual hosts, and fast's failures ten minutes apart.
  const absl::Duration day = absl::Hours(24);
  uint64_t record = 1;
  Feed(*engine, Record(record++, day, "fast"), out);
  for (int s = 0; s < 100; ++s) {
    Feed(*engine, Record(record++, absl::Seconds(s), "live" + std::to_string(s % 10)), out);
  }
  std::vector<absl::Time> fast;
  for (int i = 1; i <= 3; ++i) {
    for (int s = 0; s < 600; ++s) {  // (the stream clock takes its median every 256 messages)
      Feed(
          *engine,
          Record(record++, absl::Seconds(100 + 600 * (i - 1) + s), "live" + std::to_string(s % 10)),
          out);
    }
    Feed(*engine, Record(record++, day + absl::Minutes(10 * i), "fast"), out);
    fast.push_back(d->times.back());
  }
  EXPECT_GT(engine->clocks().ClockOffset("fast"), day - absl::Minutes(5));
  EXPECT_EQ(fast[1] - fast[0], absl::Minutes(10)) << "not piled onto the first stamp";
  EXPECT_EQ(fast[2] - fast[1], absl::Minutes(10));
  EXPECT_LT(fast[0], kT0 + absl::Hours(1)) << "in the stream's time";
}

TEST(EngineClockTest, AHostAloneIsNeverJudgedAheadOfItself) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  // One host's log read from the start (last week), then live: jumps of days, all its own.
  for (int i = 0; i < 100; ++i) {
    Feed(*engine, Record(i + 1, absl::Minutes(i) - absl::Hours(24 * 7)), out);
  }
  for (int i = 0; i < 100; ++i) Feed(*engine, Record(1000 + i, absl::Minutes(i)), out);
  EXPECT_EQ(engine->stats().clock_ahead.load(), 0u);
  EXPECT_EQ(d->times.back(), kT0 + absl::Minutes(99)) << "its times as they are";
}

TEST(EngineClockTest, TheStreamClockGivesEachHostOneVoice) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  // Ten live hosts; one sends yesterday's backlog, nine messages for each of theirs.
  uint64_t record = 1;
  for (int s = 0; s < 600; ++s) {
    Feed(*engine, Record(record++, absl::Seconds(s), "live" + std::to_string(s % 10)), out);
    for (int b = 0; b < 9; ++b) {
      Feed(*engine, Record(record++, absl::Seconds(9 * s + b) - absl::Hours(24), "backlog"), out);
    }
  }
  // It follows the live hosts, not the backlog of yesterday.
  EXPECT_GE(engine->clocks().stream_now(), kT0 + absl::Seconds(550));
  EXPECT_LE(engine->clocks().stream_now(), kT0 + absl::Seconds(600));
  // The live hosts stop; another host alone is the stream now.
  for (int s = 0; s < 4000; ++s) {
    Feed(*engine, Record(record++, absl::Seconds(601 + s), "alone"), out);
  }
  EXPECT_GE(engine->clocks().stream_now(), kT0 + absl::Seconds(4500))
      << "hosts silent for 512 messages no longer hold it back";
}

TEST(EngineClockTest, TwoHostsOfOneStreamBucketHaveOneVoiceBetweenThem) {
  // Two backlog hosts whose names fall into one bucket of the stream clock's index, alternating.
  std::string a = "backlog-a", b;
  for (int i = 0; b.empty(); ++i) {
    const std::string name = "backlog-" + std::to_string(i);
    if (name != a && EventClocks::QuickHash(name) % EventClocks::kStreamBuckets ==
                         EventClocks::QuickHash(a) % EventClocks::kStreamBuckets) {
      b = name;
    }
  }
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  uint64_t record = 1;
  for (int s = 0; s < 600; ++s) {
    Feed(*engine, Record(record++, absl::Seconds(s), "live" + std::to_string(s % 10)), out);
    for (int k = 0; k < 9; ++k) {
      Feed(*engine, Record(record++, absl::Seconds(9 * s + k) - absl::Hours(24), k % 2 ? a : b),
           out);
    }
  }
  EXPECT_GE(engine->clocks().stream_now(), kT0 + absl::Seconds(550)) << "the live hosts' time";
}

TEST(EngineWatermarkTest, TicksOnTheArrivalClockWithEachHostsOwnWatermark) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  d->watched = {"live", "lagging"};
  CollectingOutput out;
  for (int s = 0; s <= 120; s += 5) {
    Feed(*engine, Record(s + 1, absl::Seconds(s), "live", absl::Seconds(s)), out);
    Feed(*engine, Record(1000 + s, absl::Seconds(s) - absl::Hours(1), "lagging", absl::Seconds(s)),
         out);
  }
  ASSERT_GE(d->arrivals.size(), 4u);  // a tick every 30 s of arrival time
  EXPECT_LE(d->arrivals.size(), 6u);
  EXPECT_TRUE(std::is_sorted(d->arrivals.begin(), d->arrivals.end()));
  EXPECT_EQ(d->host_watermarks["live"].back(), kT0 + absl::Seconds(120) - absl::Minutes(2));
  // The last tick came with live's event at 120 s, before lagging's event of that arrival.
  EXPECT_EQ(d->host_watermarks["lagging"].back(),
            kT0 + absl::Seconds(115) - absl::Hours(1) - absl::Minutes(2))
      << "an hour behind, on its own time";
}

TEST(EngineWatermarkTest, ASilentHostsTimeMovesOnWithTheArrivalClock) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  // `quiet` sends every 10 s for a minute, then nothing; `busy` goes on for an hour.
  for (int s = 0; s <= 60; s += 10) {
    Feed(*engine, Record(s + 1, absl::Seconds(s), "quiet", absl::Seconds(s)), out);
  }
  for (int s = 60; s <= 3600; s += 10) {
    Feed(*engine, Record(1000 + s, absl::Seconds(s), "busy", absl::Seconds(s)), out);
  }
  const EventClocks& clocks = engine->clocks();
  // Its grace is its usual gap (10 s): from then on it moves with the arrival clock.
  EXPECT_EQ(clocks.Host("quiet"), kT0 + absl::Seconds(3600 - 10) - absl::Minutes(2));
  EXPECT_EQ(clocks.HostObserved("quiet"), kT0 + absl::Seconds(60) - absl::Minutes(2))
      << "what it said itself";
  EXPECT_EQ(clocks.HostObserved("never-seen"), absl::InfinitePast());
  EXPECT_EQ(clocks.Host("never-seen"), clocks.Arrival());
}

TEST(EngineWatermarkTest, ABatchingForwarderIsNotTakenForSilence) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  // Windows Event Forwarding, normal mode: a batch every 15 minutes.
  for (int batch = 0; batch < 4; ++batch) {
    const absl::Duration sent = absl::Minutes(15 * (batch + 1));
    for (int i = 0; i < 15; ++i) {
      Feed(*engine, Record(batch * 100 + i, absl::Minutes(15 * batch + i), "wef", sent), out);
    }
  }
  // Ten minutes after the last batch the host's time has not moved on: the next batch is due.
  Feed(*engine, Record(9999, absl::Minutes(70), "other", absl::Minutes(70)), out);
  EXPECT_EQ(engine->clocks().Host("wef"), kT0 + absl::Minutes(59) - absl::Minutes(2));
}

TEST(EngineWatermarkTest, TheArrivalClockWaitsForTheSlowestPartition) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  CollectingOutput out;
  auto on = [&](int32_t partition, absl::Duration arrive, std::string host) {
    Event e = Record(0, arrive, std::move(host), arrive);
    e.origin.partition = partition;
    Feed(*engine, e, out);
  };
  // A consumer catching up reads partition 0 twenty minutes ahead of partition 1.
  on(0, absl::Minutes(20), "a");
  on(1, absl::Minutes(0), "b");
  EXPECT_EQ(engine->clocks().stream_now(), kT0 + absl::Minutes(20));
  EXPECT_EQ(engine->clocks().Arrival(), kT0 - absl::Minutes(2));
  on(0, absl::Minutes(90), "a");
  EXPECT_EQ(engine->clocks().Arrival(), kT0 - absl::Minutes(2)) << "an hour apart: still waits";
  // A partition that delivered nothing in 100,000 messages no longer holds it back.
  for (int i = 0; i < 100'000; ++i) on(0, absl::Minutes(90) + absl::Milliseconds(i), "a");
  EXPECT_EQ(engine->clocks().Arrival(), kT0 + absl::Minutes(88) + absl::Milliseconds(99'999));
}

TEST(EngineStateTest, KeepsAtMostMaxHostsAndCountsTheEvicted) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, {.max_hosts = 100});
  CollectingOutput out;
  for (int i = 0; i < 1000; ++i) {
    Feed(*engine, Record(i + 1, absl::Seconds(i), "host" + std::to_string(i), absl::Seconds(i)),
         out);
  }
  EXPECT_LE(engine->clocks().hosts(), 100u);
  EXPECT_GE(engine->clocks().evictions(), 900u);
  EXPECT_EQ(engine->clocks().Host("host0"), engine->clocks().Arrival())
      << "an evicted host counts as silent";
}

TEST(EngineStateTest, AHostReferenceReadsItsHostAndIsRenewedWhenTheHostComesBack) {
  CountingDetector* d;
  auto engine = CountingEngine(&d, {.max_hosts = 10});
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(-30), "old", absl::Minutes(0)), out);  // lags
  Feed(*engine, Record(2, absl::Minutes(0), "live", absl::Minutes(0)), out);
  ASSERT_EQ(d->refs.size(), 2u);
  HostRef old = d->refs[0], live = d->refs[1];
  const EventClocks& clocks = engine->clocks();
  EXPECT_EQ(clocks.Host(old, "old"), clocks.Host("old"));
  EXPECT_EQ(clocks.HostObserved(old, "old"), clocks.HostObserved("old"));
  EXPECT_NE(clocks.Host(old, "old"), clocks.Host(live, "live")) << "each its own clock";
  HostRef none;
  EXPECT_EQ(clocks.Host(none, "never-seen"), clocks.Arrival()) << "an unknown host";
  // Ten new hosts, lagging, push "old" out; its slot goes to another host.
  for (int i = 0; i < 10; ++i) {
    Feed(*engine, Record(3 + i, absl::Minutes(-10), "new" + std::to_string(i), absl::Minutes(1)),
         out);
  }
  const HostRef stale = old;
  EXPECT_EQ(clocks.Host("old"), clocks.Arrival());
  EXPECT_EQ(clocks.Host(old, "old"), clocks.Arrival()) << "not the clock of the slot's new host";
  EXPECT_EQ(clocks.HostObserved(old, "old"), absl::InfinitePast());
  // Back (a detector's key still holds the old reference): found again by name.
  Feed(*engine, Record(20, absl::Minutes(-28), "old", absl::Minutes(2)), out);
  EXPECT_EQ(clocks.Host(old, "old"), clocks.Host("old"));
  EXPECT_NE(old.value, stale.value) << "renewed";
  EXPECT_EQ(old.value, d->refs.back().value) << "the reference the host's event carried";
}

TEST(EngineAlertTest, StampsHowLateAnAlertIs) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  d->alert_on_event = true;
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Minutes(0), "live", absl::Minutes(0) + absl::Seconds(2)), out);
  Feed(*engine, Record(2, absl::Minutes(0), "lagging", absl::Minutes(21)), out);
  ASSERT_EQ(out.alerts.size(), 2u);
  EXPECT_EQ(out.alerts[0].detection_delay_seconds(), 2);
  EXPECT_EQ(out.alerts[0].summary(), "Something happened.") << "nothing to say when live";
  EXPECT_EQ(out.alerts[1].detection_delay_seconds(), 21 * 60);
  EXPECT_THAT(out.alerts[1].summary(), HasSubstr("Detected 21 minutes after it happened."));
}

TEST(EngineAlertTest, SaysWhenAHostsTimesWereCorrected) {
  CountingDetector* d;
  auto engine = CountingEngine(&d);
  d->alert_on_event = true;
  CollectingOutput out;
  Feed(*engine, Record(1, absl::Hours(26), "fast-clock", absl::Minutes(0)), out);
  ASSERT_EQ(out.alerts.size(), 1u);
  EXPECT_EQ(out.alerts[0].host_clock_offset_seconds(), 26 * 3600);
  EXPECT_THAT(out.alerts[0].summary(), HasSubstr("clock runs 1 day 2 hours ahead"));
  EXPECT_EQ(FromProtoTime(out.alerts[0].last_event_time()), kT0) << "the corrected time";
}

}  // namespace
}  // namespace faultline
