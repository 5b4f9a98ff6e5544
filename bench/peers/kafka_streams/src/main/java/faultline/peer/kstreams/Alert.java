package faultline.peer.kstreams;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** One alert line: {"rule":...,"host":...,"app_pool":...,"event_time":"...Z"}. */
@JsonPropertyOrder({"rule", "host", "app_pool", "event_time"})
public record Alert(
    @JsonProperty("rule") String rule,
    @JsonProperty("host") String host,
    @JsonProperty("app_pool") String appPool,
    @JsonIgnore long eventTimeMs) {
  public static final String BURST = "iis_worker_failure_burst";
  public static final String IMMINENT = "iis_rapid_fail_imminent";

  private static final DateTimeFormatter ISO_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  @JsonProperty("event_time")
  public String eventTime() {
    return ISO_MILLIS.format(Instant.ofEpochMilli(eventTimeMs));
  }
}
