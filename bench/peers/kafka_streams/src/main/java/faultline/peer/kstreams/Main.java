package faultline.peer.kstreams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;

/**
 * java -jar faultline-kstreams-peer.jar --bootstrap HOST:PORT --topic T --application-id ID
 *     --expect N --alerts FILE [--grace-seconds 120] [--threads CORES] [--state-dir DIR]
 *     [--timeout-seconds 900] [--repartition source|key] [--progress-seconds 0]
 *     [--config KEY=VALUE ...]
 *
 * <p>Consumes T from the earliest offset until N records have gone through the topology, then
 * closes, and prints {"records":..,"unparsed":..,"failures":..,"alerts":..,"seconds":..,
 * "dropped_late":..} on stdout. Exit 0 on success, 1 on timeout or a stream failure, 2 on usage.
 */
public final class Main {
  private static final String USAGE =
      "usage: java -jar faultline-kstreams-peer.jar --bootstrap HOST:PORT --topic T"
          + " --application-id ID --expect N --alerts FILE [--grace-seconds 120]"
          + " [--threads N] [--state-dir DIR] [--timeout-seconds 900] [--repartition source|key]"
          + " [--progress-seconds 0] [--config KEY=VALUE ...]";

  public static void main(String[] argv) throws Exception {
    try {
      run(parse(argv));
    } catch (NumberFormatException e) {
      usage("not a number: " + e.getMessage());
    }
  }

  private static void run(Map<String, String> opts) throws Exception {
    String bootstrap = required(opts, "bootstrap");
    String topic = required(opts, "topic");
    String appId = required(opts, "application-id");
    long expect = Long.parseLong(required(opts, "expect"));
    Path alertsPath = Path.of(required(opts, "alerts"));
    Duration grace = Duration.ofSeconds(Long.parseLong(opts.getOrDefault("grace-seconds", "120")));
    int cores = Runtime.getRuntime().availableProcessors();
    int threads = Integer.parseInt(opts.getOrDefault("threads", String.valueOf(cores)));
    long timeoutSeconds = Long.parseLong(opts.getOrDefault("timeout-seconds", "900"));
    String repartition = opts.getOrDefault("repartition", "source");
    if (!repartition.equals("source") && !repartition.equals("key")) {
      usage("--repartition is source or key");
    }

    Counters counters = new Counters();
    AlertSink sink = new AlertSink(alertsPath);
    Topology topology =
        RapidFailTopology.build(topic, grace, repartition.equals("source"), counters, sink);
    Path stateDir;
    boolean deleteStateDir;
    if (opts.containsKey("state-dir")) {
      stateDir = Path.of(opts.get("state-dir"));
      Files.createDirectories(stateDir);
      deleteStateDir = false;
    } else {
      stateDir = Files.createTempDirectory("faultline-kstreams-");
      deleteStateDir = true;
    }
    Properties props = config(bootstrap, appId, threads, stateDir);
    for (String kv : EXTRA_CONFIG) {
      int eq = kv.indexOf('=');
      if (eq <= 0) usage("--config takes KEY=VALUE, not " + kv);
      props.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    KafkaStreams streams = new KafkaStreams(topology, props);
    streams.setUncaughtExceptionHandler(
        e -> {
          System.err.println("kstreams-peer: stream thread failed: " + e);
          return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });

    AtomicBoolean closed = new AtomicBoolean();
    Object closeLock = new Object();
    // Run by main at the end or by the shutdown hook (SIGTERM/SIGINT), whichever comes first;
    // the other waits on the lock until the close is done.
    Runnable shutdown =
        () -> {
          synchronized (closeLock) {
            if (closed.getAndSet(true)) return;
            closeAll(streams, sink, alertsPath, deleteStateDir ? stateDir : null);
          }
        };
    Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "kstreams-peer-shutdown"));

    long startNanos = System.nanoTime();
    streams.start();
    long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
    int exit = 0;
    String failure = null;
    long progressNanos =
        Long.parseLong(opts.getOrDefault("progress-seconds", "0")) * 1_000_000_000L;
    long nextProgress = System.nanoTime() + progressNanos;
    while (true) {
      if (counters.allProcessed(expect)) break;
      if (closed.get()) {
        failure = "interrupted";
        break;
      }
      if (progressNanos > 0 && System.nanoTime() >= nextProgress) {
        nextProgress += progressNanos;
        System.err.printf(
            Locale.ROOT,
            "kstreams-peer: %d consumed, %d of %d failures windowed, %d alerts; lag %s%n",
            counters.classified.get(), counters.arrived.get(), counters.failures.get(),
            sink.written(), lags(streams));
      }
      KafkaStreams.State state = streams.state();
      if (state == KafkaStreams.State.ERROR
          || state == KafkaStreams.State.PENDING_ERROR
          || state == KafkaStreams.State.NOT_RUNNING
          || state == KafkaStreams.State.PENDING_SHUTDOWN) {
        failure = "Kafka Streams stopped (" + state + ")";
        break;
      }
      if (System.nanoTime() > deadline) {
        failure = "timed out after " + timeoutSeconds + " s";
        break;
      }
      Thread.sleep(5);
    }
    if (failure != null) {
      exit = 1;
      System.err.printf(
          Locale.ROOT,
          "kstreams-peer: %s: %d of %d records consumed, %d of %d failures windowed%n",
          failure, counters.classified.get(), expect, counters.arrived.get(),
          counters.failures.get());
    }
    double seconds = counters.seconds();
    // A late record is dropped right after its counting peek, in the same thread: give the last
    // ones a moment, then read the metric before close removes the task metrics.
    Thread.sleep(200);
    long droppedLate = droppedRecords(streams);
    long closeNanos = System.nanoTime();
    shutdown.run();
    long first = counters.firstNanos();
    System.err.printf(
        Locale.ROOT,
        "kstreams-peer: start to first record %.1f s, processing %.1f s, close %.1f s%n",
        first == 0 ? 0 : (first - startNanos) / 1e9, seconds,
        (System.nanoTime() - closeNanos) / 1e9);
    System.out.printf(
        Locale.ROOT,
        "{\"records\":%d,\"unparsed\":%d,\"failures\":%d,\"alerts\":%d,\"seconds\":%.3f,"
            + "\"dropped_late\":%d}%n",
        counters.consumed.get(), counters.unparsed.get(), counters.failures.get(),
        sink.written(), seconds, droppedLate);
    System.out.flush();
    System.exit(exit);
  }

  /**
   * A clean close commits: the record caches flush, the last window updates reach the alert
   * processor and the sink; then the alerts file is flushed and the temporary state removed.
   */
  private static void closeAll(KafkaStreams streams, AlertSink sink, Path alertsPath, Path tmp) {
    if (!streams.close(Duration.ofSeconds(60))) {
      System.err.println("kstreams-peer: KafkaStreams did not close within 60 s");
    }
    try {
      sink.close();
    } catch (IOException e) {
      System.err.println("kstreams-peer: cannot close " + alertsPath + ": " + e);
    }
    if (tmp != null) deleteRecursively(tmp);
  }

  static Properties config(String bootstrap, String appId, int threads, Path stateDir) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    // Throughput: a 64 MiB record cache (default 10 MiB) absorbs the many updates of overlapping
    // sliding windows; commit (and so flush the cache downstream) once a second, not every 30 s,
    // so alerts come out within about a second and a commit stays small.
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 64L * 1024 * 1024);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
    p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.OPTIMIZE);
    // Consumer: read the topic from the start. Bigger polls and fetches (2000 records, 4 MiB a
    // partition) were tried: no faster, and partitions progressed less evenly.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    return p;
  }

  /** Sum of the task-level dropped-records-total (late records for expired windows, mostly). */
  static long droppedRecords(KafkaStreams streams) {
    double total = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
      MetricName name = e.getKey();
      if (name.name().equals("dropped-records-total")
          && name.group().equals("stream-task-metrics")
          && e.getValue().metricValue() instanceof Number n) {
        total += n.doubleValue();
      }
    }
    return Math.round(total);
  }

  /** Consumer lag per topic (records-lag summed over its partitions), for --progress-seconds. */
  static Map<String, Long> lags(KafkaStreams streams) {
    Map<String, Long> lag = new java.util.TreeMap<>();
    for (Map.Entry<MetricName, ? extends Metric> e : streams.metrics().entrySet()) {
      MetricName name = e.getKey();
      if (name.name().equals("records-lag")
          && name.group().equals("consumer-fetch-manager-metrics")
          && name.tags().containsKey("partition")
          && e.getValue().metricValue() instanceof Number n
          && !Double.isNaN(n.doubleValue())) {
        String topic = name.tags().get("topic");
        if (topic.endsWith("-repartition")) topic = "repartition";
        lag.merge(topic, n.longValue(), Long::sum);
      }
    }
    return lag;
  }

  /** --config KEY=VALUE, repeatable: any Kafka Streams / client setting, over the defaults. */
  private static final java.util.List<String> EXTRA_CONFIG = new java.util.ArrayList<>();

  private static Map<String, String> parse(String[] argv) {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println(USAGE);
        System.exit(0);
      }
      if (!a.startsWith("--")) usage("unexpected argument " + a);
      int eq = a.indexOf('=');
      if (eq > 0) {
        if (a.substring(2, eq).equals("config")) EXTRA_CONFIG.add(a.substring(eq + 1));
        else opts.put(a.substring(2, eq), a.substring(eq + 1));
      } else {
        if (i + 1 >= argv.length) usage("missing value for " + a);
        String key = a.substring(2), value = argv[++i];
        if (key.equals("config")) EXTRA_CONFIG.add(value);
        else opts.put(key, value);
      }
    }
    for (String k : opts.keySet()) {
      switch (k) {
        case "bootstrap", "topic", "application-id", "expect", "alerts", "grace-seconds",
            "threads", "state-dir", "timeout-seconds", "repartition", "progress-seconds" -> {}
        default -> usage("unknown option --" + k);
      }
    }
    return opts;
  }

  private static String required(Map<String, String> opts, String key) {
    String v = opts.get(key);
    if (v == null || v.isEmpty()) usage("--" + key + " is required");
    return v;
  }

  private static void usage(String why) {
    System.err.println("kstreams-peer: " + why);
    System.err.println(USAGE);
    System.exit(2);
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("kstreams-peer: cannot delete " + dir + ": " + e);
    }
  }
}
