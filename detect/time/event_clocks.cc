#include "detect/time/event_clocks.h"

#include <algorithm>

#include "core/strings.h"
#include "core/unix_nanos.h"

namespace faultline {

EventClocks::EventClocks(Options options)
    : options_(options),
      lateness_ns_(Nanos(options.allowed_lateness)),
      max_clock_skew_ns_(Nanos(options.max_clock_skew)) {
  options_.max_hosts = std::max<size_t>(options_.max_hosts, 1);
}

uint32_t EventClocks::SlotFor(std::string_view host) {
  if (auto it = index_.find(ToAbsl(host)); it != index_.end()) return it->second;
  if (index_.size() >= options_.max_hosts) {
    // The least recently seen tenth at once: no LRU list to keep up per event.
    std::vector<std::pair<int64_t, uint32_t>> by_age;
    by_age.reserve(index_.size());
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].used) by_age.emplace_back(slots_[i].clock.last_seen, i);
    }
    const size_t n = std::max<size_t>(1, by_age.size() / 10);
    std::nth_element(by_age.begin(), by_age.begin() + static_cast<ptrdiff_t>(n - 1), by_age.end());
    for (size_t k = 0; k < n; ++k) {
      HostSlot& victim = slots_[by_age[k].second];
      index_.erase(ToAbsl(victim.name));
      victim = HostSlot{.generation = victim.generation + 1};
      free_.push_back(by_age[k].second);
    }
    evictions_ += n;
  }
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[slot].used = true;
  slots_[slot].name.assign(host);
  index_.emplace(ToAbsl(slots_[slot].name), slot);
  return slot;
}

const EventClocks::HostClock* EventClocks::Find(std::string_view host) const {
  auto it = index_.find(ToAbsl(host));
  return it == index_.end() ? nullptr : &slots_[it->second].clock;
}

const EventClocks::HostClock* EventClocks::Find(HostRef& ref, std::string_view host) const {
  const uint64_t slot = (ref.value & 0xFFFFFFFF) - 1;  // 0 (none) wraps past every slot
  if (slot < slots_.size()) {
    const HostSlot& s = slots_[slot];
    if (s.used && s.generation == (ref.value >> 32)) return &s.clock;
  }
  auto it = index_.find(ToAbsl(host));  // evicted, and perhaps back
  if (it == index_.end()) return nullptr;
  ref = RefOf(it->second);
  return &slots_[it->second].clock;
}

void EventClocks::Grow(size_t index) { partitions_.resize(index + 1); }

absl::Time EventClocks::PartitionNow(const HostClock& host) const {
  const absl::Time now = PartitionNow(host.partition);
  return now == absl::InfinitePast() ? stream_now_ : now;
}

void EventClocks::TakeMedian(PartitionClock& p) {
  std::array<int64_t, kStreamSamples> sorted;
  size_t n = 0;
  for (const PartitionClock::Sample& sample : p.samples) {
    if (sample.updated != 0 && sample.updated + kStreamRecent >= p.samples_seen) {
      sorted[n++] = sample.time;
    }
  }
  p.recent_hosts = n;
  const size_t mid = (n - 1) / 2;  // the lower median: of two, the earlier
  std::nth_element(sorted.begin(), sorted.begin() + mid, sorted.begin() + n);
  const absl::Time median = absl::FromUnixNanos(sorted[mid]);
  // Until warmed up the median of a few hosts may still move back (the very first message can be
  // a stray stamp); from then on it only moves forward.
  p.SetNow(p.samples_seen <= kStreamWarmup ? median : std::max(p.now, median));
  if (p.samples_seen >= kStreamWarmup) stream_now_ = std::max(stream_now_, p.now);
}

EventClocks::ChannelClock& EventClocks::ChannelFor(HostClock& host, std::string_view channel,
                                                   int64_t arrival) {
  const uint64_t id = QuickHash(channel);  // a host has a few channels, their names unalike
  for (ChannelClock& c : host.channels) {
    if (c.id == id) return c;
  }
  if (host.channels.size() < kMaxChannels) {
    host.channels.push_back({.id = id, .last_seen = arrival});
    return host.channels.back();
  }
  // More channels than slots: the one heard from least recently starts over.
  ChannelClock* stalest = &host.channels[0];
  for (ChannelClock& c : host.channels) {
    if (c.last_seen < stalest->last_seen) stalest = &c;
  }
  *stalest = ChannelClock{.id = id, .last_seen = arrival};
  return *stalest;
}

int64_t EventClocks::Slowest(const HostClock& host, int64_t at) {
  int64_t slowest = std::numeric_limits<int64_t>::max();
  for (const ChannelClock& c : host.channels) {
    if (c.newest == kPast) continue;
    const int64_t silent = SubNanos(SubNanos(at, c.last_seen), host.grace);
    slowest = std::min(slowest, AddNanos(c.newest, std::max<int64_t>(0, silent)));
  }
  return slowest == std::numeric_limits<int64_t>::max() ? kPast : slowest;
}

EventClocks::Observation EventClocks::Observe(std::string_view host_name, std::string_view channel,
                                              absl::Time time_value, int64_t time, Arrived arrived,
                                              int32_t partition) {
  const int64_t arrival = arrived.time_ns;
  const uint32_t slot = SlotFor(host_name);
  HostClock& host = slots_[slot].clock;
  const HostRef ref = RefOf(slot);
  if (host.last_seen != kPast && arrival > host.last_seen) {
    // The usual gap: the largest recent one, forgotten at the rate time passes.
    const int64_t gap = SubNanos(arrival, host.last_seen);
    host.grace = std::min(kMaxGraceNs, std::max(gap, host.grace - gap));
  }
  host.last_seen = std::max(host.last_seen, arrival);
  host.partition = partition;
  ChannelClock& ch = ChannelFor(host, channel, arrival);

  const int64_t skew = SubNanos(time, arrival);
  const bool ahead = arrived.judge && skew > max_clock_skew_ns_;
  const int64_t floor = SubNanos(ch.newest, lateness_ns_);  // older than this: late
  auto late_with = [&](int64_t offset) { return SubNanos(time, offset) < floor; };
  if (arrived.judge && skew > AddNanos(host.offset, max_clock_skew_ns_)) {
    // Ahead of its own frame: a clock set wrong, or one stray stamp. Anchor it where the host's
    // clock stood, so its next events continue from there with their spacing intact.
    int64_t anchor = ch.newest;
    if (anchor == kPast) {
      for (const ChannelClock& c : host.channels) anchor = std::max(anchor, c.newest);
    }
    if (anchor == kPast) anchor = arrival;
    const int64_t limit = AddNanos(arrival, max_clock_skew_ns_);
    const int64_t before = host.offset;
    if (anchor > limit) {
      // Its clock stood ahead already, recorded before anything could judge it (a stream clock
      // of too few hosts, a first record whose broker time was not trusted): from the arrival.
      anchor = arrival;
    }
    host.previous_offset = before;
    host.offset = std::max<int64_t>(0, SubNanos(time, anchor));
    for (ChannelClock& c : host.channels) {
      if (c.newest > limit) c.newest = SubNanos(c.newest, host.offset - before);  // same frame
    }
  } else if (host.offset > 0 && late_with(host.offset)) {
    if (host.previous_offset < host.offset && !late_with(host.previous_offset)) {
      host.offset = host.previous_offset;  // the jump was one stray stamp
    } else if (!ahead) {
      host.offset = 0;  // its clock was put right
    }
    host.previous_offset = host.offset;
  }
  const int64_t corrected = SubNanos(time, host.offset);
  const bool late = corrected < SubNanos(ch.newest, lateness_ns_);  // (re-anchoring moves it)
  if (corrected > ch.newest) ch.newest = corrected;
  ch.last_seen = std::max(ch.last_seen, arrival);
  return {.time = host.offset == 0 ? time_value : FromUnixNanosOrInfinite(corrected),
          .late = late,
          .host = ref};
}

absl::Time EventClocks::PartitionNow(int32_t partition) const {
  const size_t index = partition < 0 ? 0 : static_cast<size_t>(partition) + 1;
  return index < partitions_.size() ? partitions_[index].now : absl::InfinitePast();
}

bool EventClocks::PartitionAtEnd(int32_t partition) const {
  const size_t index = partition < 0 ? 0 : static_cast<size_t>(partition) + 1;
  return index < partitions_.size() && partitions_[index].at_end;
}

absl::Time EventClocks::Arrival() const {
  absl::Time slowest = stream_now_;
  for (const PartitionClock& p : partitions_) {
    const bool heard = p.broker || p.samples_seen >= kStreamWarmup;
    if ((!p.assigned && !heard) || p.at_end) continue;
    if (p.last_message + kIdleMessages < messages_) continue;  // stopped, with no end seen
    slowest = std::min(slowest, p.now);  // an assigned partition not heard from: InfinitePast
  }
  return slowest - options_.allowed_lateness;
}

void EventClocks::Assign(int32_t partition) {
  PartitionClock& p = PartitionFor(partition);
  p.assigned = true;
  p.at_end = false;
  p.last_message = messages_;
}

void EventClocks::Revoke(int32_t partition) {
  // Its clock goes with it: given back later, the partition is read again from before its commit
  // (a restore), and that replay is judged on its own broker times, not where this member left
  // off (a clock minutes ahead of the replay took a host ahead of its broker time for on time).
  PartitionClock& p = PartitionFor(partition);
  p = PartitionClock{};
  p.at_end = true;  // no longer ours to wait for
}

void EventClocks::ForgetPartitionHosts(int32_t partition, absl::flat_hash_set<std::string>* hosts) {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    HostSlot& slot = slots_[i];
    if (!slot.used || slot.clock.partition != partition) continue;
    hosts->insert(slot.name);
    index_.erase(ToAbsl(slot.name));
    slot = HostSlot{.generation = slot.generation + 1};  // references to it read as unknown
    free_.push_back(i);
  }
}

void EventClocks::AtEnd(int32_t partition) { PartitionFor(partition).at_end = true; }

absl::Time EventClocks::HostWatermark(const HostClock* host) const {
  if (host == nullptr) return Arrival();
  if (in_sweep_ && host->sweep == sweep_) return host->watermark;
  const absl::Time watermark =
      FromUnixNanosOrInfinite(Slowest(*host, UnixNanos(PartitionNow(*host)))) -
      options_.allowed_lateness;
  if (in_sweep_) {
    host->sweep = sweep_;
    host->watermark = watermark;
  }
  return watermark;
}

absl::Time EventClocks::HostObservedWatermark(const HostClock* host) const {
  if (host == nullptr) return absl::InfinitePast();
  return FromUnixNanosOrInfinite(Slowest(*host, host->last_seen)) - options_.allowed_lateness;
}

absl::Time EventClocks::Host(std::string_view host) const { return HostWatermark(Find(host)); }
absl::Time EventClocks::Host(HostRef& ref, std::string_view host) const {
  return HostWatermark(Find(ref, host));
}
absl::Time EventClocks::HostObserved(std::string_view host) const {
  return HostObservedWatermark(Find(host));
}
absl::Time EventClocks::HostObserved(HostRef& ref, std::string_view host) const {
  return HostObservedWatermark(Find(ref, host));
}

int32_t EventClocks::PartitionOf(std::string_view host_name) const {
  const HostClock* host = Find(host_name);
  return host == nullptr ? -1 : host->partition;
}

absl::Duration EventClocks::ClockOffset(std::string_view host_name) const {
  const HostClock* host = Find(host_name);
  return host == nullptr ? absl::ZeroDuration() : absl::Nanoseconds(host->offset);
}

}  // namespace faultline
