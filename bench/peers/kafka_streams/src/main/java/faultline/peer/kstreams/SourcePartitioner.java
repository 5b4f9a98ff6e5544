package faultline.peer.kstreams;

import java.util.Optional;
import java.util.Set;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Writes each failure to the repartition partition numbered like the input partition it came
 * from. The input is keyed by host, so every failure of a (host, pool) is in one input partition
 * and still lands in one repartition partition: the grouping is right. What it buys: each
 * repartition partition has exactly one upstream task, so it keeps that partition's event-time
 * order. With the default (hash of the host+pool key) a repartition partition interleaves the
 * output of every upstream task as they happen to run, its stream time jumps to the most
 * advanced one, and the records of the others arrive "late" and are dropped (see README.md).
 * It relies on the input being keyed by host: null-keyed records, spread at random, would split
 * a (host, pool) over several tasks. (Sending those by key hash instead is worse: one hashed
 * record among source-ordered ones brings the interleaving back for the whole partition.)
 */
public final class SourcePartitioner implements StreamPartitioner<String, Failure> {
  @Override
  public Optional<Set<Integer>> partitions(
      String topic, String key, Failure value, int numPartitions) {
    int p = value.partition();
    return p >= 0 && p < numPartitions ? Optional.of(Set.of(p)) : Optional.empty();
  }
}
