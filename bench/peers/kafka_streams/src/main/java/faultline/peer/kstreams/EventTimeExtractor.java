package faultline.peer.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Event time from the document itself (@timestamp, EventTime, TimeCreated), not the Kafka record
 * timestamp. Runs after the value deserializer, so it reads the parsed tree. A document without a
 * readable time keeps its partition's time (never a negative timestamp: Kafka Streams would drop
 * the record before the counting peek).
 */
public final class EventTimeExtractor implements TimestampExtractor {
  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    if (record.value() instanceof JsonNode doc) {
      long t = Envelope.eventTimeMillis(doc);
      if (t >= 0) return t;
    }
    return partitionTime >= 0 ? partitionTime : Math.max(0, record.timestamp());
  }
}
