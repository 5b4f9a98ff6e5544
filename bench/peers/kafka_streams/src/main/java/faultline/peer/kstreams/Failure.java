package faultline.peer.kstreams;

/**
 * One IIS worker-process failure (WAS 5009-5013, W3SVC 1009-1013) in envelope-neutral form: the
 * value of the repartition topic (JSON via {@link JsonSerde}). {@code partition} is the input
 * partition it was read from (for {@link SourcePartitioner}).
 */
public record Failure(String host, String pool, long pid, long timeMs, int partition) {
  /** Marks a document that could not be parsed (not JSON, unknown envelope, failure w/o fields). */
  public static final Failure UNPARSED = new Failure("", "", -1, -1, -1);

  public Failure withPartition(int p) {
    return isUnparsed() ? this : new Failure(host, pool, pid, timeMs, p);
  }

  public boolean isUnparsed() {
    return this == UNPARSED;
  }

  /** The grouping key: one window per (host, app pool). Tab never occurs in either. */
  public String poolKey() {
    return host + '\t' + pool;
  }
}
