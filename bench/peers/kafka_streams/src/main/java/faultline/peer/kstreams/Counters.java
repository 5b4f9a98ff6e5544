package faultline.peer.kstreams;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of the run, updated from the stream threads by peeks. For one record, {@link
 * #classified} is counted after {@link #failures} / {@link #unparsed}, so once classified reaches
 * N the failure count is final, and once {@link #arrived} (the far side of the repartition topic)
 * reaches it every failure has been through the windowed aggregation.
 */
public final class Counters {
  final AtomicLong consumed = new AtomicLong();
  final AtomicLong classified = new AtomicLong();
  final AtomicLong unparsed = new AtomicLong();
  final AtomicLong failures = new AtomicLong();
  final AtomicLong arrived = new AtomicLong();
  private final AtomicLong firstNanos = new AtomicLong();
  private final AtomicLong lastNanos = new AtomicLong();

  void onInput() {
    if (consumed.getAndIncrement() == 0) firstNanos.compareAndSet(0, System.nanoTime());
  }

  void onClassified(Failure f) {
    if (f != null) {
      if (f.isUnparsed()) unparsed.incrementAndGet();
      else failures.incrementAndGet();
    }
    classified.incrementAndGet();
    touch();
  }

  void onArrived() {
    arrived.incrementAndGet();
    touch();
  }

  private void touch() {
    long now = System.nanoTime();
    lastNanos.accumulateAndGet(now, Math::max);
  }

  /** Every one of the expected records has gone through the whole topology. */
  boolean allProcessed(long expected) {
    return classified.get() >= expected && arrived.get() >= failures.get();
  }

  /** System.nanoTime() of the first record consumed, 0 before. */
  long firstNanos() {
    return firstNanos.get();
  }

  /** From the first record consumed to the last one processed. */
  double seconds() {
    long first = firstNanos.get();
    return first == 0 ? 0 : Math.max(0, lastNanos.get() - first) / 1e9;
  }
}
