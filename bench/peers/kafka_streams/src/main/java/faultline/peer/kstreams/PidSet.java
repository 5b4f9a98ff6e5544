package faultline.peer.kstreams;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The aggregate of one sliding window of one (host, app pool): the distinct worker pids that
 * failed in it, each with the event time it was first seen. A redelivered record (same pid) does
 * not count twice. Immutable: {@link #with} returns a copy, so an aggregate read from a store is
 * never changed under another window.
 */
public final class PidSet {
  private final TreeMap<Long, Long> firstSeen;

  public PidSet() {
    this.firstSeen = new TreeMap<>();
  }

  @JsonCreator
  public PidSet(@JsonProperty("pids") Map<Long, Long> pids) {
    this.firstSeen = pids == null ? new TreeMap<>() : new TreeMap<>(pids);
  }

  @JsonProperty("pids")
  public Map<Long, Long> pids() {
    return firstSeen;
  }

  public PidSet with(long pid, long timeMs) {
    Long seen = firstSeen.get(pid);
    if (seen != null && seen <= timeMs) return this;
    PidSet copy = new PidSet(firstSeen);
    copy.firstSeen.put(pid, timeMs);
    return copy;
  }

  @JsonIgnore
  public int count() {
    return firstSeen.size();
  }

  /** The event time at which the window reached {@code n} distinct pids (n >= 1, n <= count). */
  public long timeOfNth(int n) {
    long[] times = firstSeen.values().stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(times);
    return times[n - 1];
  }
}
