package faultline.peer.kstreams;

import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Turns window updates into alerts, once per (rule, host, pool). Overlapping sliding windows of
 * a pool report the same crossing many times; a key-value store (RocksDB, changelogged, in the
 * same task as the window store, since both are keyed by host+pool) remembers the highest rule
 * already emitted: 1 = burst, 2 = burst and imminent.
 */
public final class AlertOnce implements Processor<Windowed<String>, PidSet, String, Alert> {
  public static final String STORE = "alerted-pools";

  private final int burstAt;
  private final int imminentAt;
  private ProcessorContext<String, Alert> context;
  private KeyValueStore<String, Integer> emitted;

  public AlertOnce(int burstAt, int imminentAt) {
    this.burstAt = burstAt;
    this.imminentAt = imminentAt;
  }

  @Override
  public void init(ProcessorContext<String, Alert> context) {
    this.context = context;
    this.emitted = context.getStateStore(STORE);
  }

  @Override
  public void process(Record<Windowed<String>, PidSet> record) {
    PidSet pids = record.value();
    if (pids == null) return;
    int count = pids.count();
    int level = count >= imminentAt ? 2 : count >= burstAt ? 1 : 0;
    if (level == 0) return;
    String key = record.key().key();
    Integer before = emitted.get(key);
    int prev = before == null ? 0 : before;
    if (level <= prev) return;
    int tab = key.indexOf('\t');
    String host = key.substring(0, tab), pool = key.substring(tab + 1);
    if (prev < 1) {
      context.forward(record.withKey(key).withValue(
          new Alert(Alert.BURST, host, pool, pids.timeOfNth(burstAt))));
    }
    if (level >= 2) {
      context.forward(record.withKey(key).withValue(
          new Alert(Alert.IMMINENT, host, pool, pids.timeOfNth(imminentAt))));
    }
    emitted.put(key, level);
  }
}
