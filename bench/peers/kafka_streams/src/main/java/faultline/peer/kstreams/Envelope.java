package faultline.peer.kstreams;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;

/**
 * Reads the four forwarder envelopes (Winlogbeat 8 and 7, NXLog CE, Fluent Bit winevtlog) from a
 * Jackson tree: which one it is, its event time, and the failure it carries, if any.
 */
public final class Envelope {
  private Envelope() {}

  /** NXLog EventTime: "2026-03-10 10:14:03", UTC, no zone (optionally 'T' and a fraction). */
  private static final DateTimeFormatter NXLOG_TIME =
      new DateTimeFormatterBuilder()
          .appendPattern("yyyy-MM-dd[ ]['T']HH:mm:ss")
          .optionalStart()
          .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
          .optionalEnd()
          .toFormatter();

  /** Fluent Bit TimeCreated: "2026-03-10 04:14:03 -0500". */
  private static final DateTimeFormatter FLUENTBIT_TIME =
      new DateTimeFormatterBuilder()
          .appendPattern("yyyy-MM-dd HH:mm:ss")
          .optionalStart()
          .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
          .optionalEnd()
          .appendLiteral(' ')
          .appendOffset("+HHMM", "+0000")
          .toFormatter();

  /** The document's event time in epoch milliseconds, or -1 when it has none we can read. */
  public static long eventTimeMillis(JsonNode doc) {
    if (doc == null || !doc.isObject()) return -1;
    try {
      if (doc.has("winlog")) return Instant.parse(text(doc, "@timestamp")).toEpochMilli();
      if (doc.has("SourceName")) {
        return LocalDateTime.parse(text(doc, "EventTime"), NXLOG_TIME)
            .toInstant(ZoneOffset.UTC)
            .toEpochMilli();
      }
      if (doc.has("ProviderName")) {
        return OffsetDateTime.parse(text(doc, "TimeCreated"), FLUENTBIT_TIME)
            .toInstant()
            .toEpochMilli();
      }
    } catch (DateTimeParseException | NullPointerException e) {
      return -1;
    }
    return -1;
  }

  /**
   * The worker failure in {@code doc}; {@code null} for any other event (most of the stream);
   * {@link Failure#UNPARSED} for a document that is not one of the envelopes, or a failure event
   * whose host, pool, pid or time cannot be read.
   */
  public static Failure toFailure(JsonNode doc) {
    if (doc == null || !doc.isObject()) return Failure.UNPARSED;
    String provider, host, pool;
    long eventId, pid;
    JsonNode winlog = doc.get("winlog");
    if (winlog != null && winlog.isObject()) { // Winlogbeat 8 (event_id a string) and 7 (a number)
      provider = text(winlog, "provider_name");
      eventId = number(winlog.get("event_id"));
      if (!isWorkerFailure(provider, eventId)) return provider == null ? Failure.UNPARSED : null;
      host = text(winlog, "computer_name");
      JsonNode data = winlog.path("event_data");
      pool = firstText(data.get("AppPoolID"), data.get("param1"));
      pid = firstNumber(data.get("ProcessID"), data.get("param2"));
      if (pool == null) pool = between(text(doc, "message"), "pplication pool '");
      if (pid < 0) pid = parseLong(between(text(doc, "message"), "process id was '"));
    } else if (doc.has("SourceName")) { // NXLog CE: the top-level ProcessID is not the worker's
      provider = text(doc, "SourceName");
      eventId = number(doc.get("EventID"));
      if (!isWorkerFailure(provider, eventId)) return null;
      host = text(doc, "Hostname");
      pool = text(doc, "AppPoolID");
      if (pool == null) pool = between(text(doc, "Message"), "pplication pool '");
      pid = parseLong(between(text(doc, "Message"), "process id was '"));
    } else if (doc.has("ProviderName")) { // Fluent Bit winevtlog: insertion strings by position
      provider = text(doc, "ProviderName");
      eventId = number(doc.get("EventID"));
      if (!isWorkerFailure(provider, eventId)) return null;
      host = text(doc, "Computer");
      JsonNode inserts = doc.path("StringInserts");
      pool = firstText(inserts.get(0));
      pid = firstNumber(inserts.get(1));
      if (pool == null) pool = between(text(doc, "Message"), "pplication pool '");
      if (pid < 0) pid = parseLong(between(text(doc, "Message"), "process id was '"));
    } else {
      return Failure.UNPARSED;
    }
    long time = eventTimeMillis(doc);
    if (host == null || host.isEmpty() || pool == null || pool.isEmpty() || pid < 0 || time < 0) {
      return Failure.UNPARSED;
    }
    return new Failure(host, pool, pid, time, -1);
  }

  /** WAS 5009-5013 and W3SVC 1009-1013: the failures IIS rapid-fail protection counts. */
  static boolean isWorkerFailure(String provider, long id) {
    if (provider == null) return false;
    if (provider.equalsIgnoreCase("Microsoft-Windows-WAS") || provider.equalsIgnoreCase("WAS")) {
      return id >= 5009 && id <= 5013;
    }
    if (provider.equalsIgnoreCase("Microsoft-Windows-W3SVC")
        || provider.equalsIgnoreCase("W3SVC")
        || provider.equalsIgnoreCase("Microsoft-Windows-IIS-W3SVC")) {
      return id >= 1009 && id <= 1013;
    }
    return false;
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() || v.isContainerNode() ? null : v.asText();
  }

  private static String firstText(JsonNode... nodes) {
    for (JsonNode v : nodes) {
      if (v != null && v.isValueNode() && !v.isNull() && !v.asText().isEmpty()) return v.asText();
    }
    return null;
  }

  /** A number, or a string holding one; -1 otherwise. */
  private static long number(JsonNode v) {
    if (v == null) return -1;
    if (v.isIntegralNumber()) return v.asLong();
    if (v.isTextual()) return parseLong(v.asText());
    return -1;
  }

  private static long firstNumber(JsonNode... nodes) {
    for (JsonNode v : nodes) {
      long n = number(v);
      if (n >= 0) return n;
    }
    return -1;
  }

  private static long parseLong(String s) {
    if (s == null || s.isEmpty()) return -1;
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The text between {@code prefix} and the next single quote in {@code s}, or null. */
  private static String between(String s, String prefix) {
    if (s == null) return null;
    int at = s.indexOf(prefix);
    if (at < 0) return null;
    int begin = at + prefix.length();
    int end = s.indexOf('\'', begin);
    return end < 0 ? null : s.substring(begin, end);
  }
}
