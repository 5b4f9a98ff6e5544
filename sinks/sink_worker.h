// One sink's bounded queue and the worker thread that drains it, in order: it takes up to the
// sink's max_batch() alerts from the head of the queue, calls Sink::Deliver, retries what the
// sink reports as retryable (sinks/retry.h: exponential backoff, equal jitter, the peer's
// Retry-After), and only then pops them and tells their tickets. Head-of-line retry keeps the
// notifications of one fingerprint in order. Owned by the Dispatcher, which makes one per sink.
//
// Threads: Push() from the workers' detect threads (it takes a lock), or the journal thread with a
// spool; everything else on the worker thread. Stats are atomics, read by the metrics endpoint.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "core/clock.h"
#include "core/delivery.h"
#include "core/histogram.h"
#include "core/settings.h"
#include "sinks/retry.h"
#include "sinks/sink.h"

namespace faultline {

// The settings of one sink's queue: its entry's keys, else delivery's (app/).
struct QueueOptions {
  std::string name;  // unique in a pipeline: log prefix, metrics label, spool cursor
  size_t capacity = 10000;
  bool drop_when_full = false;  // false: back-pressure
  absl::Duration retry_backoff = absl::Seconds(1);
  absl::Duration retry_backoff_max = absl::Minutes(1);
  // A peer's Retry-After is honoured up to this long.
  absl::Duration retry_after_max = absl::Minutes(10);

  // The settings a configuration gives (queue_capacity, on_full, retry_backoff,
  // retry_backoff_max): declared once, read in `delivery:` and, each overriding it, in every
  // sink's entry (sinks/registry.h SinkEntry).
  static const settings::Schema<QueueOptions>& Schema();
};

struct SinkStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};   // refused for good by the destination
  std::atomic<uint64_t> retried{0};  // alerts sent again after a retryable failure
  std::atomic<uint64_t> dropped{0};  // queue full with on_full: drop
  std::atomic<uint64_t> queued{0};   // in the queue now, the batch being delivered included
  std::atomic<bool> saturated{false};
  LatencyHistogram latency;  // queued -> delivered
};

// An alert waiting in a sink's queue.
struct QueuedAlert {
  std::shared_ptr<const Alert> alert;
  std::shared_ptr<DeliveryTicket> ticket;  // may be null (with a spool the journal acknowledges)
  absl::Time queued_at;
  uint64_t seq = 0;  // its spool sequence number; 0 without a spool
};

class SinkWorker {
 public:
  // Called on the worker thread after each batch is done (delivered, refused for good), with
  // the spool sequence number of its last alert (0 without a spool).
  using OnDone = std::function<void(uint64_t last_seq)>;

  SinkWorker(QueueOptions options, std::string type, std::unique_ptr<Sink> sink, Clock& clock,
             OnDone on_done);
  ~SinkWorker();

  void Start();
  // Queues `alert`. With back-pressure the queue takes it even when full (one message raises a
  // handful of alerts at most) and says it is saturated; with on_full: drop it is counted as
  // dropped and its ticket told. Never blocks on the sink.
  void Push(QueuedAlert alert);
  bool empty() const;
  // Asks the worker to stop; a delivery in progress finishes (bounded by the sink's timeout).
  void RequestStop();
  void Join();

  const QueueOptions& options() const { return options_; }
  const std::string& type() const { return type_; }
  const SinkStats& stats() const { return stats_; }

 private:
  void Run();
  // Delivers the batch, retrying retryable failures until they succeed or the worker is asked to
  // stop (false). A batch refused for good is tried again alert by alert, so one alert the peer
  // cannot take does not take its batch with it; an alert refused alone counts as done.
  bool DeliverWithRetries(const std::vector<QueuedAlert>& batch,
                          const std::vector<const Alert*>& alerts);
  void LogRefusal(const absl::Status& status);
  // Sleeps on the injected clock in short steps, so a stop interrupts a long backoff.
  bool Sleep(absl::Duration d);

  const QueueOptions options_;
  const std::string type_;
  const std::unique_ptr<Sink> sink_;
  Clock& clock_;
  const OnDone on_done_;
  SinkStats stats_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built for ThreadSanitizer, which then
  // cannot see absl::Mutex synchronize (every guarded access reads as a race).
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<QueuedAlert> queue_;          // guarded by mu_
  bool stop_ = false;                      // guarded by mu_
  bool warned_full_ = false;               // guarded by mu_
  std::set<std::string> refusals_logged_;  // kinds already logged; worker thread only
  absl::BitGen random_;                    // worker thread only
  std::thread thread_;
};

}  // namespace faultline
