// The Dispatcher sits between detection and the sinks. The detect thread hands it each alert
// (Submit never blocks); every sink has its own bounded queue and worker thread
// (sink_worker.h), which delivers in order, in batches, retrying with backoff. When an alert has
// reached every sink (delivered, refused for good, or dropped by policy), or, with a spool, once
// it is durable on disk (spool/journal.h), the alert's DeliveryTicket is told, and the source may
// commit past the event that caused it.
//
// A full queue either drops new alerts (counted) or, by default, makes Saturated() true until
// the queue has drained to half: the Kafka source then pauses its partitions (back-pressure), so
// nothing is lost and memory stays bounded.
//
// Lifecycle: Create() builds (and with a spool, recovers what was not delivered last time),
// Start() starts the threads, Stop() delivers what it can within a deadline and stops them.
// Threads: Submit() and Saturated() on the detect thread; one worker per sink; with a spool,
// the journal thread. Stats are atomics, read by the metrics endpoint.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/clock.h"
#include "core/delivery.h"
#include "sinks/sink.h"
#include "sinks/sink_worker.h"

namespace faultline {

class Journal;
class Spool;

class Dispatcher {
 public:
  struct Route {
    QueueOptions queue;
    std::string type;
    std::unique_ptr<Sink> sink;
  };

  // Names unnamed routes by their type (webhook, webhook-2, ...). With `spool_dir`, opens the
  // spool and queues what each sink had not delivered when faultline last stopped; a spool the
  // host does not let it open (read-only, missing, full) is logged and opened later by the
  // journal, nothing acknowledged meanwhile. Starts no thread. kInvalidArgument: duplicate sink
  // names, two unnamed journaled sinks of one type, a sink name the spool cannot keep.
  static absl::StatusOr<std::unique_ptr<Dispatcher>> Create(std::vector<Route> routes,
                                                            const std::string& spool_dir,
                                                            Clock& clock);
  ~Dispatcher();

  // Starts the sink workers (and the journal). Once (again: nothing); not after Stop().
  void Start();

  // Queues `alert` for every sink; never blocks. `ticket` may be null. From any thread: the
  // workers of `run` (kafka.workers) share one dispatcher.
  void Submit(std::shared_ptr<const Alert> alert, const std::shared_ptr<DeliveryTicket>& ticket);

  // True while some queue with back-pressure is full (until it drained to half its capacity), or
  // the journal is failing or behind.
  bool Saturated() const;

  // Waits up to `timeout` (real time: it bounds how long a shutdown waits for peers) for every
  // queue to empty (an alert leaves its queue once delivered) and the journal to be written.
  // True if it did.
  bool WaitIdle(absl::Duration timeout);

  // WaitIdle, then stops the threads; what was not delivered by then stays unacknowledged (and in
  // the spool). Idempotent.
  void Stop(absl::Duration timeout);

  struct SinkInfo {
    const std::string& name;
    const std::string& type;
    size_t capacity;
    const SinkStats& stats;
  };
  std::vector<SinkInfo> sinks() const;
  // Whether alerts are journaled (delivery.spool_dir), open or not yet.
  bool spooled() const { return journal_ != nullptr; }
  // Null without a spool, or before it opened.
  const Spool* spool() const { return open_spool_.load(std::memory_order_acquire); }
  // Failed spool opens and appends.
  uint64_t spool_write_errors() const;
  // Alerts waiting to be journaled (with a spool that fails, none is acknowledged).
  size_t unjournaled() const;

 private:
  explicit Dispatcher(Clock& clock);
  // Nothing waiting for the journal or in any queue.
  bool Idle() const;
  // A worker or the journal took a batch off: wakes a Stop() waiting for Idle().
  void OnProgress();
  // Opens the spool and queues what each sink had not delivered; Create, else the journal.
  absl::StatusOr<Spool*> OpenSpool();

  Clock& clock_;
  std::string spool_dir_;
  std::vector<std::string> journaled_;  // the journaled sinks' names, in their cursors' order
  std::vector<int> cursor_;             // per worker, its cursor in the spool; -1: not journaled
  std::unique_ptr<Spool> spool_;        // set once, by Create or the journal thread
  std::atomic<Spool*> open_spool_{nullptr};  // spool_, for other threads once it is set
  std::vector<std::unique_ptr<SinkWorker>> workers_;
  std::unique_ptr<Journal> journal_;  // with a spool; stopped before the workers
  std::mutex progress_mu_;
  std::condition_variable progress_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace faultline
