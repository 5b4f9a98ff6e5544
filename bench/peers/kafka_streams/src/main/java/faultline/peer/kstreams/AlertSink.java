package faultline.peer.kstreams;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/** The alerts file: one JSON line per alert, shared by all stream threads, flushed on close. */
public final class AlertSink implements AutoCloseable {
  private final BufferedWriter out;
  private final AtomicLong written = new AtomicLong();
  private boolean closed;

  public AlertSink(Path path) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8);
  }

  public synchronized void write(Alert alert) {
    if (closed) return;
    try {
      out.write(JsonSerde.MAPPER.writeValueAsString(alert));
      out.write('\n');
      written.incrementAndGet();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public long written() {
    return written.get();
  }

  @Override
  public synchronized void close() throws IOException {
    if (closed) return;
    closed = true;
    out.close();
  }
}
