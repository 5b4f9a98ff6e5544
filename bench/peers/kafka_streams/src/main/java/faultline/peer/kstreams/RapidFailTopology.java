package faultline.peer.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * IIS worker-failure burst / rapid-fail imminent, per (host, app pool), in event time:
 *
 * <pre>
 *   topic (key host, JSON doc) --peek count--> parse envelope --filter failures-->
 *   selectKey host+pool --repartition (by source partition or key hash)--> groupByKey
 *   --SlidingWindows(5 min, grace)-->
 *   aggregate distinct pids --toStream--> filter >= 3 --alert once per (rule, host, pool)--> file
 * </pre>
 */
public final class RapidFailTopology {
  public static final Duration INTERVAL = Duration.ofMinutes(5);
  public static final int BURST_THRESHOLD = 3;
  public static final int IMMINENT_THRESHOLD = 4;

  private RapidFailTopology() {}

  /** Envelope to Failure, noting the input partition (a FixedKeyProcessor can see it). */
  static final class ParseEnvelope implements FixedKeyProcessor<String, JsonNode, Failure> {
    private FixedKeyProcessorContext<String, Failure> context;

    @Override
    public void init(FixedKeyProcessorContext<String, Failure> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, JsonNode> record) {
      Failure failure = Envelope.toFailure(record.value());
      if (failure != null && !failure.isUnparsed()) {
        int partition = context.recordMetadata().map(RecordMetadata::partition).orElse(-1);
        failure = failure.withPartition(partition);
      }
      context.forward(record.withValue(failure));
    }
  }

  /**
   * @param keepSourcePartition write the repartition topic with {@link SourcePartitioner} rather
   *     than Kafka's default partitioner (hash of the host+pool key)
   */
  public static Topology build(
      String topic, Duration grace, boolean keepSourcePartition, Counters counters,
      AlertSink sink) {
    Repartitioned<String, Failure> byPool =
        Repartitioned.<String, Failure>as("failures-by-pool")
            .withKeySerde(Serdes.String())
            .withValueSerde(JsonSerde.of(Failure.class));
    if (keepSourcePartition) byPool = byPool.withStreamPartitioner(new SourcePartitioner());

    Serde<Failure> failureSerde = JsonSerde.of(Failure.class);
    Serde<PidSet> pidSetSerde = JsonSerde.of(PidSet.class);
    Serde<JsonNode> documentSerde = JsonSerde.documents();

    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(
        Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(AlertOnce.STORE), Serdes.String(), Serdes.Integer()));

    builder.stream(
            topic,
            Consumed.with(Serdes.String(), documentSerde)
                .withTimestampExtractor(new EventTimeExtractor())
                .withName("windows-events"))
        .peek((host, doc) -> counters.onInput(), Named.as("count-input"))
        .processValues(ParseEnvelope::new, Named.as("parse-envelope"))
        .peek((host, failure) -> counters.onClassified(failure), Named.as("count-parsed"))
        .filter((host, failure) -> failure != null && !failure.isUnparsed(),
            Named.as("worker-failures"))
        .selectKey((host, failure) -> failure.poolKey(), Named.as("key-by-host-pool"))
        .repartition(byPool)
        .peek((pool, failure) -> counters.onArrived(), Named.as("count-repartitioned"))
        .groupByKey(Grouped.with(Serdes.String(), failureSerde))
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(INTERVAL, grace))
        .aggregate(
            PidSet::new,
            (pool, failure, pids) -> pids.with(failure.pid(), failure.timeMs()),
            Named.as("distinct-pids"),
            Materialized.<String, PidSet, WindowStore<Bytes, byte[]>>as("pids-per-pool")
                .withKeySerde(Serdes.String())
                .withValueSerde(pidSetSerde))
        .toStream(Named.as("window-updates"))
        .filter((window, pids) -> pids != null && pids.count() >= BURST_THRESHOLD,
            Named.as("over-threshold"))
        .process(() -> new AlertOnce(BURST_THRESHOLD, IMMINENT_THRESHOLD),
            Named.as("alert-once"), AlertOnce.STORE)
        .foreach((pool, alert) -> sink.write(alert), Named.as("alerts-file"));
    return builder.build();
  }
}
