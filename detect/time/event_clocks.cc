#include "detect/time/event_clocks.h"

#include <algorithm>

#include "absl/hash/hash.h"
#include "core/strings.h"

namespace faultline {

EventClocks::EventClocks(Options options) : options_(options), hosts_(options.max_hosts) {}

EventClocks::PartitionClock& EventClocks::PartitionFor(int32_t partition) {
  const size_t index = partition < 0 ? 0 : static_cast<size_t>(partition) + 1;
  if (index >= partitions_.size()) partitions_.resize(index + 1);
  return partitions_[index];
}

absl::Time EventClocks::PartitionNow(const HostClock& host) const {
  const absl::Time now = PartitionNow(host.partition);
  return now == absl::InfinitePast() ? stream_now_ : now;
}

EventClocks::Arrived EventClocks::Arrive(int32_t partition, absl::Time broker_time,
                                         absl::Time event_time) {
  PartitionClock& p = PartitionFor(partition);
  p.last_message = ++messages_;
  p.at_end = false;
  if (broker_time != absl::InfinitePast()) {
    p.broker = true;
    p.now = std::max(p.now, broker_time);
    stream_now_ = std::max(stream_now_, p.now);
    return {p.now, true, true};
  }
  // A record whose timestamp was not trusted, on a partition that has a broker clock: that clock.
  if (p.broker) return {p.now, true, true};
  // The stream clock (Observe moves it); its very first message has only its own time.
  if (p.now == absl::InfinitePast()) p.now = event_time;
  return {p.now, false, p.samples_seen >= kStreamWarmup && p.recent_hosts >= kStreamJudgeHosts};
}

void EventClocks::Sample(PartitionClock& p, HostClock& host, absl::Time time) {
  if (host.stream_slot < 0 || p.samples[host.stream_slot].host != host.id) {
    host.stream_slot = static_cast<int>(p.next_slot);
    p.next_slot = (p.next_slot + 1) % kStreamSamples;
  }
  ++p.samples_seen;
  p.samples[host.stream_slot] = {host.id, absl::ToUnixNanos(time), p.samples_seen};
  // Recomputed every kStreamSamples updates (each one while warming up): a median of 64 costs
  // ~200 ns, ~3 ns per event.
  if (p.samples_seen > kStreamSamples && p.samples_seen % kStreamSamples != 0) return;
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
  auto [found, created] = hosts_.FindOrCreate(host_name);
  HostClock& host = *found;
  if (created) host.id = absl::Hash<absl::string_view>{}(ToAbsl(host_name));
  if (!arrived.broker) Sample(PartitionFor(partition), host, time);
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
  return {.time = corrected, .late = late, .ahead = ahead};
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

absl::Time EventClocks::Host(std::string_view host_name) const {
  const HostClock* host = hosts_.Find(host_name);
  if (host == nullptr) return Arrival();
  return Slowest(*host, PartitionNow(*host)) - options_.allowed_lateness;
}

absl::Time EventClocks::HostObserved(std::string_view host_name) const {
  const HostClock* host = hosts_.Find(host_name);
  if (host == nullptr) return absl::InfinitePast();
  return Slowest(*host, host->last_seen) - options_.allowed_lateness;
}

absl::Duration EventClocks::ClockOffset(std::string_view host_name) const {
  const HostClock* host = hosts_.Find(host_name);
  return host == nullptr ? absl::ZeroDuration() : host->offset;
}

}  // namespace faultline
