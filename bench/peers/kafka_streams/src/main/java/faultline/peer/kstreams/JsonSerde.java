package faultline.peer.kstreams;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** Jackson serdes: the input documents as trees, internal values (Failure, PidSet) bound. */
public final class JsonSerde {
  private JsonSerde() {}

  static final ObjectMapper MAPPER =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  /**
   * Input documents. Never throws: a record that is not JSON becomes a null value, which the
   * topology counts as unparsed (a throwing deserializer would stop the app, or with
   * LogAndContinueExceptionHandler drop the record before the counting peek).
   */
  public static Serde<JsonNode> documents() {
    Deserializer<JsonNode> de =
        (topic, bytes) -> {
          if (bytes == null) return null;
          try {
            JsonNode doc = MAPPER.readTree(bytes);
            return doc != null && doc.isObject() ? doc : null;
          } catch (IOException e) {
            return null;
          }
        };
    Serializer<JsonNode> ser = (topic, doc) -> write(doc);
    return Serdes.serdeFrom(ser, de);
  }

  /** A Jackson-bound value type (a record or a bean). */
  public static <T> Serde<T> of(Class<T> type) {
    Serializer<T> ser = (topic, value) -> write(value);
    Deserializer<T> de =
        (topic, bytes) -> {
          if (bytes == null) return null;
          try {
            return MAPPER.readValue(bytes, type);
          } catch (IOException e) {
            throw new SerializationException("cannot read " + type.getSimpleName(), e);
          }
        };
    return Serdes.serdeFrom(ser, de);
  }

  private static byte[] write(Object value) {
    if (value == null) return null;
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new SerializationException("cannot write " + value.getClass().getSimpleName(), e);
    }
  }
}
