#include "detect/time/event_clocks.h"

#include <algorithm>
#include <cstring>

#include "absl/hash/hash.h"
#include "core/strings.h"
#include "core/unix_nanos.h"

namespace faultline {

namespace {

// A host's identity for the stream clock, cheap (every message of a file pays it): its length
// and three 8-byte words of its name. Two names alike in all of that share one sample, which
// only thins the median a little.
uint64_t QuickHash(std::string_view s) {
  uint64_t a = 0, b = 0, c = 0;
  const size_t n = s.size();
  if (n >= 8) {
    std::memcpy(&a, s.data(), 8);
    std::memcpy(&b, s.data() + n / 2 - 4, 8);
    std::memcpy(&c, s.data() + n - 8, 8);
  } else {
    std::memcpy(&a, s.data(), n);
  }
  uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15) ^ (c * 0xC2B2AE3D27D4EB4F)) + n;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9;
  return h ^ (h >> 32);
}

}  // namespace

EventClocks::EventClocks(Options options) : options_(options) {
  options_.max_hosts = std::max<size_t>(options_.max_hosts, 1);
}

uint32_t EventClocks::SlotFor(std::string_view host) {
  if (auto it = index_.find(ToAbsl(host)); it != index_.end()) return it->second;
  if (index_.size() >= options_.max_hosts) {
    // The least recently seen tenth at once: no LRU list to keep up per event.
    std::vector<std::pair<absl::Time, uint32_t>> by_age;
    by_age.reserve(index_.size());
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].used) by_age.emplace_back(slots_[i].clock.last_seen, i);
    }
    const size_t n = std::max<size_t>(1, by_age.size() / 10);
    std::nth_element(by_age.begin(), by_age.begin() + (n - 1), by_age.end());
    for (size_t k = 0; k < n; ++k) {
      HostSlot& victim = slots_[by_age[k].second];
      index_.erase(victim.name);
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
  index_.emplace(slots_[slot].name, slot);
  return slot;
}

const EventClocks::HostClock* EventClocks::Find(std::string_view host) const {
  auto it = index_.find(ToAbsl(host));
  return it == index_.end() ? nullptr : &slots_[it->second].clock;
}

const EventClocks::HostClock* EventClocks::Find(HostRef ref) const {
  const uint64_t slot = (ref.value & 0xFFFFFFFF) - 1;  // 0 (none) wraps past every slot
  if (slot >= slots_.size()) return nullptr;
  const HostSlot& s = slots_[slot];
  return s.used && s.generation == (ref.value >> 32) ? &s.clock : nullptr;
}

void EventClocks::Grow(size_t index) { partitions_.resize(index + 1); }

absl::Time EventClocks::PartitionNow(const HostClock& host) const {
  const absl::Time now = PartitionNow(host.partition);
  return now == absl::InfinitePast() ? stream_now_ : now;
}

EventClocks::Arrived EventClocks::ArriveOnStream(PartitionClock& p, absl::Time event_time,
                                                 std::string_view host) {
  // The stream clock; its very first message has only its own time.
  if (p.now == absl::InfinitePast()) p.now = event_time;
  Sample(p, QuickHash(host), event_time);
  return {p.now, false, p.samples_seen >= kStreamWarmup && p.recent_hosts >= kStreamJudgeHosts};
}

void EventClocks::Sample(PartitionClock& p, uint64_t host, absl::Time time) {
  // Its slot, through a direct-mapped index of the host hash (a miss: a newcomer).
  uint8_t& indexed = p.slot_of[host % p.slot_of.size()];
  size_t slot = indexed;
  if (p.samples[slot].host != host || p.samples[slot].updated == 0) {
    slot = p.next_slot;  // a host not among the 64: it takes the oldest newcomer's slot
    p.next_slot = (p.next_slot + 1) % kStreamSamples;
    indexed = static_cast<uint8_t>(slot);
  }
  ++p.samples_seen;
  p.samples[slot] = {host, UnixNanos(time), p.samples_seen};
  // Recomputed every 256 messages (each one while the first 64 come in): a median of 64 costs
  // ~2,000 instructions, under 10 per message.
  if (p.samples_seen > kStreamSamples && p.samples_seen % 256 != 0) return;
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
  p.now = p.samples_seen <= kStreamWarmup ? median : std::max(p.now, median);
  if (p.samples_seen >= kStreamWarmup) stream_now_ = std::max(stream_now_, p.now);
}

EventClocks::ChannelClock& EventClocks::ChannelFor(HostClock& host, std::string_view channel,
                                                   absl::Time arrival) {
  const uint64_t id = absl::Hash<absl::string_view>{}(ToAbsl(channel));
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

absl::Time EventClocks::Slowest(const HostClock& host, absl::Time at) {
  absl::Time slowest = absl::InfiniteFuture();
  for (const ChannelClock& c : host.channels) {
    if (c.newest == absl::InfinitePast()) continue;
    const absl::Duration silent = at - c.last_seen - host.grace;
    slowest = std::min(slowest, c.newest + std::max(absl::ZeroDuration(), silent));
  }
  return slowest == absl::InfiniteFuture() ? absl::InfinitePast() : slowest;
}

EventClocks::Observation EventClocks::Observe(std::string_view host_name, std::string_view channel,
                                              absl::Time time, Arrived arrived, int32_t partition) {
  const absl::Time arrival = arrived.time;
  const uint32_t slot = SlotFor(host_name);
  HostClock& host = slots_[slot].clock;
  const HostRef ref{static_cast<uint64_t>(slots_[slot].generation) << 32 | (slot + 1)};
  if (host.last_seen != absl::InfinitePast() && arrival > host.last_seen) {
    // The usual gap: the largest recent one, forgotten at the rate time passes.
    const absl::Duration gap = arrival - host.last_seen;
    host.grace = std::min(kMaxGrace, std::max(gap, host.grace - gap));
  }
  host.last_seen = std::max(host.last_seen, arrival);
  host.partition = partition;
  ChannelClock& ch = ChannelFor(host, channel, arrival);

  const absl::Duration skew = time - arrival;
  const bool ahead = arrived.judge && skew > options_.max_clock_skew;
  auto late_with = [&](absl::Duration offset) {
    return time - offset < ch.newest - options_.allowed_lateness;
  };
  if (arrived.judge && skew > host.offset + options_.max_clock_skew) {
    // Ahead of its own frame: a clock set wrong, or one stray stamp. Anchor it where the host's
    // clock stood, so its next events continue from there with their spacing intact.
    absl::Time anchor = ch.newest;
    if (anchor == absl::InfinitePast()) {
      for (const ChannelClock& c : host.channels) anchor = std::max(anchor, c.newest);
    }
    if (anchor == absl::InfinitePast()) anchor = arrival;
    host.previous_offset = host.offset;
    host.offset = std::max(absl::ZeroDuration(), time - anchor);
  } else if (host.offset > absl::ZeroDuration() && late_with(host.offset)) {
    if (host.previous_offset < host.offset && !late_with(host.previous_offset)) {
      host.offset = host.previous_offset;  // the jump was one stray stamp
    } else if (!ahead) {
      host.offset = absl::ZeroDuration();  // its clock was put right
    }
    host.previous_offset = host.offset;
  }
  const absl::Time corrected = time - host.offset;
  const bool late = corrected < ch.newest - options_.allowed_lateness;
  if (corrected > ch.newest) ch.newest = corrected;
  ch.last_seen = std::max(ch.last_seen, arrival);
  return {.time = corrected, .late = late, .host = ref};
}

absl::Time EventClocks::PartitionNow(int32_t partition) const {
  const size_t index = partition < 0 ? 0 : static_cast<size_t>(partition) + 1;
  return index < partitions_.size() ? partitions_[index].now : absl::InfinitePast();
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
  PartitionClock& p = PartitionFor(partition);
  p.assigned = false;
  p.at_end = true;  // no longer ours to wait for
}

void EventClocks::AtEnd(int32_t partition) { PartitionFor(partition).at_end = true; }

absl::Time EventClocks::HostWatermark(const HostClock* host) const {
  if (host == nullptr) return Arrival();
  if (!in_sweep_) return Slowest(*host, PartitionNow(*host)) - options_.allowed_lateness;
  if (host->sweep != sweep_) {
    host->sweep = sweep_;
    host->watermark = Slowest(*host, PartitionNow(*host)) - options_.allowed_lateness;
  }
  return host->watermark;
}

absl::Time EventClocks::HostObservedWatermark(const HostClock* host) const {
  if (host == nullptr) return absl::InfinitePast();
  return Slowest(*host, host->last_seen) - options_.allowed_lateness;
}

absl::Time EventClocks::Host(std::string_view host) const { return HostWatermark(Find(host)); }
absl::Time EventClocks::Host(HostRef host) const { return HostWatermark(Find(host)); }
absl::Time EventClocks::HostObserved(std::string_view host) const {
  return HostObservedWatermark(Find(host));
}
absl::Time EventClocks::HostObserved(HostRef host) const {
  return HostObservedWatermark(Find(host));
}

absl::Duration EventClocks::ClockOffset(std::string_view host_name) const {
  const HostClock* host = Find(host_name);
  return host == nullptr ? absl::ZeroDuration() : host->offset;
}

}  // namespace faultline
