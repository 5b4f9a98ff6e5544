// The engine's clocks: one arrival clock per partition, one event-time clock per source host and
// channel. ARCHITECTURE.md ("Event time") gives the rules and their trade-offs.
//
// Arrival clock: when messages reached faultline. In `run` it is the newest broker timestamp of
// the partition (Kafka's append time, or the producer's create time; the pipeline does not pass
// timestamps beyond its wall clock). Without one (`replay`, a file) it is the stream clock: the
// median of the latest event times of the last 64 hosts heard from (hosts silent for 512
// messages drop out), never moving back once warmed up. Each host holds one sample however much it
// sends, so no single host (one stamped 2099, one sending a day of backlog) can move it.
//
// Host clocks: per (host, channel), the newest event time of the events detectors want (the
// others pass by for the price of the arrival clock; a host's heartbeats nobody subscribes to do
// not move its clock, its silence does). Lateness is judged against it and
// nothing else: Winlogbeat and NXLog read each channel with its own subscription, so an
// Application event routinely arrives after later System events of the same host. A host's
// watermark is its slowest channel, and it moves on with the arrival clock once the host has
// been silent for longer than its usual gap between messages (`grace`, learnt per host, so a
// forwarder that batches for 15 minutes is not taken for a silent host between batches).
//
// Clocks that lie: an event logged more than max_clock_skew ahead of its arrival is `ahead`,
// judged against a broker clock, or against a stream clock of at least 8 hosts (the stream clock
// of fewer is a host's own stamps: a single host reading its log from the start would look
// "ahead" of itself). A host that jumps ahead of its own frame gets a clock offset, taken off its
// event times from then on, so its windows keep their spacing and its times compare with other
// hosts'. The offset is anchored where the host's clock stood (its newest event on the channel,
// or the arrival time for a new host); a single stray stamp is undone by the next event that
// fits the previous offset, and an offset is dropped once the host's events are no longer ahead
// but would be late with it. Without a clock to judge by, a host's times are taken as they are:
// a host whose clock is wrong keeps its own frame, which is still right for its own windows.
//
// Bounded: at most max_hosts hosts, the least recently seen evicted (counted). Single-threaded:
// owned by the Engine, read by detectors only inside OnWatermark.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "core/unix_nanos.h"
#include "detect/watermarks.h"

namespace faultline {

class EventClocks final : public Watermarks {
 public:
  struct Options {
    absl::Duration allowed_lateness = absl::Minutes(2);
    absl::Duration max_clock_skew = absl::Minutes(10);
    size_t max_hosts = 100'000;
  };
  // A silent host's clock waits at most this long before the arrival clock moves it on, however
  // long its forwarder has batched before.
  static constexpr int64_t kMaxGraceNs = int64_t{3600} * 1'000'000'000;  // an hour
  // Hosts the stream clock takes its median over, and how many updates it needs before it is
  // trusted not to move back.
  static constexpr size_t kStreamSamples = 64;
  static constexpr uint64_t kStreamWarmup = 8;
  static constexpr uint64_t kStreamRecent = 8 * kStreamSamples;
  // Hosts a stream clock needs before a host is judged ahead of it.
  static constexpr size_t kStreamJudgeHosts = 8;
  // A partition that delivered nothing in this many messages no longer holds Arrival() back.
  static constexpr uint64_t kIdleMessages = 100'000;

  explicit EventClocks(Options options);

  struct Arrived {
    absl::Time time;
    int64_t time_ns;  // the same in Unix nanoseconds (core/unix_nanos.h)
    bool broker;  // on a broker clock (the partition has Kafka timestamps), not the stream clock
    bool judge;   // a clock to judge hosts' clocks by: a broker's, or a stream of enough hosts
  };
  // The arrival of a message of `partition` (-1: a file) with Kafka timestamp `broker_time`
  // (InfinitePast when unknown or not trusted) whose event `host` logged at `event_time_ns`
  // (Unix nanoseconds). Every message comes here; only events a detector wants go on to Observe.
  Arrived Arrive(int32_t partition, absl::Time broker_time, int64_t event_time_ns,
                 std::string_view host) {
    PartitionClock& p = PartitionFor(partition);
    p.last_message = ++messages_;
    p.at_end = false;
    if (broker_time != absl::InfinitePast()) {
      p.broker = true;
      if (broker_time > p.now) p.SetNow(broker_time);
      if (p.now > stream_now_) stream_now_ = p.now;
      return {p.now, p.now_ns, true, true};
    }
    // A record whose timestamp was not trusted, on a partition with a broker clock: that clock.
    if (p.broker) return {p.now, p.now_ns, true, true};
    return ArriveOnStream(p, event_time_ns, host);
  }

  struct Observation {
    absl::Time time;  // the event time with the host's clock offset taken off
    bool late;        // older than its host and channel's newest by more than the lateness
    HostRef host;     // for Event::host_clock
  };
  // Records an event of `host` on `channel` logged at `time` (`time_ns` in Unix nanoseconds)
  // that arrived at `arrival` (from Arrive) on `partition`. Late events move no clock forward.
  Observation Observe(std::string_view host, std::string_view channel, absl::Time time,
                      int64_t time_ns, Arrived arrival, int32_t partition);

  absl::Time Host(std::string_view host) const override;
  absl::Time HostObserved(std::string_view host) const override;
  absl::Time Host(HostRef& ref, std::string_view host) const override;
  absl::Time HostObserved(HostRef& ref, std::string_view host) const override;
  absl::Time Arrival() const override;

  // The newest arrival time of any partition; InfinitePast until one is known.
  absl::Time stream_now() const { return stream_now_; }
  // The arrival clock of one partition (-1: a file).
  absl::Time PartitionNow(int32_t partition) const;
  // Whether the partition was read to its end (or revoked) and has delivered nothing since.
  bool PartitionAtEnd(int32_t partition) const;

  // Around the engine's OnWatermark calls: host watermarks are computed once per host for them
  // (nothing moves the clocks meanwhile).
  void BeginSweep() {
    ++sweep_;
    in_sweep_ = true;
  }
  void EndSweep() { in_sweep_ = false; }

  // A consumer's partitions: an assigned one holds Arrival() back until it delivers or reaches
  // its end; one at its end (idle) or revoked does not hold it back. A revoked partition's clock
  // starts over: given back, it is replayed from before its commit (a restore).
  void Assign(int32_t partition);
  void Revoke(int32_t partition);
  // Forgets the hosts last heard on `partition` (revoked: their next owner keeps their time) and
  // adds their names to `*hosts`.
  void ForgetPartitionHosts(int32_t partition, absl::flat_hash_set<std::string>* hosts);
  void AtEnd(int32_t partition);
  // How far `host`'s clock is taken to run ahead (zero for most hosts and unknown ones).
  absl::Duration ClockOffset(std::string_view host) const;
  // The partition `host` was last heard on; -1 for a host unknown or read from a file.
  int32_t PartitionOf(std::string_view host) const;
  size_t hosts() const { return index_.size(); }
  // A name's identity, cheap (every message of a file pays it): its length and three 8-byte
  // words of it. Two names alike in all of that share one stream clock sample (which only thins
  // the median a little) or one channel clock.
  static uint64_t QuickHash(std::string_view s);
  static constexpr size_t kStreamBuckets = 256;  // of host hashes, into the samples
  uint64_t evictions() const { return evictions_; }

 private:
  // Host and channel clocks keep Unix nanoseconds (core/unix_nanos.h; kPast: none yet): they
  // are updated on every routed event, and absl::Time arithmetic is a library call each.
  static constexpr int64_t kPast = std::numeric_limits<int64_t>::min();
  struct ChannelClock {
    uint64_t id = 0;            // QuickHash of the channel name
    int64_t newest = kPast;     // newest (corrected) event time
    int64_t last_seen = kPast;  // arrival of its last message
  };
  struct HostClock {
    int64_t last_seen = kPast;    // arrival of its last message (LRU, silence)
    int64_t grace = 0;            // its usual gap between messages
    int64_t offset = 0;           // taken off its event times
    int64_t previous_offset = 0;  // before the last jump: a stray stamp's undo
    int32_t partition = -1;
    absl::InlinedVector<ChannelClock, 2> channels;
    // Host() of the current sweep: a host has many keys (pools, services) in every detector.
    mutable uint64_t sweep = 0;
    mutable absl::Time watermark;
  };
  struct PartitionClock {
    absl::Time now = absl::InfinitePast();
    int64_t now_ns = UnixNanos(absl::InfinitePast());  // the same, kept with it
    void SetNow(absl::Time t) {
      now = t;
      now_ns = UnixNanos(t);
    }
    bool broker = false;        // it has had Kafka timestamps: its clock is theirs
    bool assigned = false;      // a consumer's, told by the source
    bool at_end = false;        // read to its end: idle until its next message
    uint64_t last_message = 0;  // messages_ at its latest message
    // The stream clock: each host's latest event time (Unix nanos), one slot per host.
    struct Sample {
      uint64_t host = 0;
      int64_t time = 0;      // Unix nanos
      uint64_t updated = 0;  // samples_seen then: hosts silent for kStreamRecent drop out
    };
    std::array<Sample, kStreamSamples> samples{};
    std::array<uint8_t, kStreamBuckets> slot_of{};  // host hash -> its slot (checked: a hint)
    uint64_t samples_seen = 0;                      // updates so far
    size_t next_slot = 0;     // where the next new host goes (the oldest newcomer's slot)
    size_t recent_hosts = 0;  // in the last median
  };
  static constexpr size_t kMaxChannels = 8;
  // Hosts live in slots, so that a reference to one stays good until it is evicted (the slot's
  // generation then moves on).
  struct HostSlot {
    uint32_t generation = 1;
    bool used = false;
    std::string name;
    HostClock clock;
  };

  PartitionClock& PartitionFor(int32_t partition) {
    const size_t index = partition < 0 ? 0 : static_cast<size_t>(partition) + 1;
    if (index >= partitions_.size()) Grow(index);
    return partitions_[index];
  }
  void Grow(size_t index);
  Arrived ArriveOnStream(PartitionClock& p, int64_t event_time_ns, std::string_view host);
  // Moves a partition's stream clock to the lower median of its hosts' latest event times: the
  // rare part of ArriveOnStream, apart so that the common part stays small.
  [[gnu::noinline]] void TakeMedian(PartitionClock& p);

  // The arrival clock of the partition `host` last came from.
  absl::Time PartitionNow(const HostClock& host) const;
  ChannelClock& ChannelFor(HostClock& host, std::string_view channel, int64_t arrival);
  // The host's slot, made (evicting the least recently seen tenth when full) if new.
  uint32_t SlotFor(std::string_view host);
  const HostClock* Find(std::string_view host) const;
  // By reference, renewed by name when it is stale.
  const HostClock* Find(HostRef& ref, std::string_view host) const;
  HostRef RefOf(uint32_t slot) const {
    return {static_cast<uint64_t>(slots_[slot].generation) << 32 | (slot + 1)};
  }
  absl::Time HostWatermark(const HostClock* host) const;
  absl::Time HostObservedWatermark(const HostClock* host) const;
  // The host's slowest channel at arrival time `at`, each channel moved on by its silence.
  static int64_t Slowest(const HostClock& host, int64_t at);

  Options options_;
  int64_t lateness_ns_, max_clock_skew_ns_;  // the options' durations, in nanoseconds
  std::vector<PartitionClock> partitions_;   // index partition + 1
  uint64_t messages_ = 0;
  absl::Time stream_now_ = absl::InfinitePast();
  // A deque: a slot never moves, so the index can point at the name the slot holds (one copy of
  // each name, not two).
  std::deque<HostSlot> slots_;
  absl::flat_hash_map<absl::string_view, uint32_t> index_;  // host name (in its slot) -> slot
  std::vector<uint32_t> free_;
  uint64_t evictions_ = 0;
  uint64_t sweep_ = 1;
  bool in_sweep_ = false;
};

// On the path of every message: here to be inlined.

inline uint64_t EventClocks::QuickHash(std::string_view s) {
  uint64_t a = 0, b = 0, c = 0;
  const size_t n = s.size();
  if (n >= 8) {
    std::memcpy(&a, s.data(), 8);
    std::memcpy(&b, s.data() + n / 2 - 4, 8);
    std::memcpy(&c, s.data() + n - 8, 8);
  } else if (n >= 4) {  // fixed-size loads only: a call to memcpy would cost more than the rest
    uint32_t head, tail;
    std::memcpy(&head, s.data(), 4);
    std::memcpy(&tail, s.data() + n - 4, 4);
    a = head | static_cast<uint64_t>(tail) << 32;
  } else if (n > 0) {
    a = static_cast<unsigned char>(s[0]) | static_cast<unsigned char>(s[n / 2]) << 8 |
        static_cast<unsigned char>(s[n - 1]) << 16;
  }
  uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15) ^ (c * 0xC2B2AE3D27D4EB4F)) + n;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9;
  return h ^ (h >> 32);
}

inline EventClocks::Arrived EventClocks::ArriveOnStream(PartitionClock& p, int64_t event_time_ns,
                                                        std::string_view host) {
  // The stream clock; its very first message has only its own time.
  if (p.now == absl::InfinitePast()) p.SetNow(absl::FromUnixNanos(event_time_ns));
  // The host's slot, through a direct-mapped index of the host hash (a miss: a newcomer).
  const uint64_t id = QuickHash(host);
  uint8_t& indexed = p.slot_of[id % p.slot_of.size()];
  size_t slot = indexed;
  const PartitionClock::Sample& owner = p.samples[slot];
  const bool same_bucket =
      owner.updated != 0 && owner.host % p.slot_of.size() == id % p.slot_of.size();
  if (owner.host != id && !same_bucket) {
    slot = p.next_slot;  // a host not among the 64: it takes the oldest newcomer's slot
    p.next_slot = (p.next_slot + 1) % kStreamSamples;
    indexed = static_cast<uint8_t>(slot);
  }  // (two hosts of one bucket share its slot: never a voice each message)
  ++p.samples_seen;
  p.samples[slot] = {id, event_time_ns, p.samples_seen};
  // Recomputed every 256 messages (each one while the first 64 come in): a median of 64 costs
  // ~2,000 instructions, under 10 per message.
  if (p.samples_seen <= kStreamSamples || p.samples_seen % 256 == 0) TakeMedian(p);
  return {p.now, p.now_ns, false,
          p.samples_seen >= kStreamWarmup && p.recent_hosts >= kStreamJudgeHosts};
}

}  // namespace faultline
