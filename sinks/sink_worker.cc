#include "sinks/sink_worker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace faultline {

const settings::Schema<QueueOptions>& QueueOptions::Schema() {
  using settings::Bound;
  static const auto* schema =
      &(*new settings::Schema<QueueOptions>("A sink's queue and its retries."))
           .Integer("queue_capacity", &QueueOptions::capacity, 1, 10'000'000,
                    "Alerts each sink's queue holds.")
           .Choice(
               "on_full", &QueueOptions::drop_when_full,
               std::vector<std::pair<std::string, bool>>{{"backpressure", false}, {"drop", true}},
               "When a queue is full: pause the Kafka partitions until it drained to half "
               "(nothing lost), or drop new alerts (counted).")
           .Duration("retry_backoff", &QueueOptions::retry_backoff, Bound::kPositive,
                     "The first wait after a retryable failure; doubled each time, with jitter.")
           .Duration("retry_backoff_max", &QueueOptions::retry_backoff_max, Bound::kPositive,
                     "The longest wait between retries.")
           .Check([](const QueueOptions& q, settings::Checker& check) {
             if (q.retry_backoff_max < q.retry_backoff) {
               check.Error("retry_backoff_max", "must not be shorter than retry_backoff");
             }
           });
  return *schema;
}

SinkWorker::SinkWorker(QueueOptions options, std::string type, std::unique_ptr<Sink> sink,
                       Clock& clock, OnDone on_done)
    : options_(std::move(options)),
      type_(std::move(type)),
      sink_(std::move(sink)),
      clock_(clock),
      on_done_(std::move(on_done)) {}

SinkWorker::~SinkWorker() {
  RequestStop();
  Join();
}

void SinkWorker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void SinkWorker::Push(QueuedAlert e) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    was_empty = queue_.empty();
    if (queue_.size() >= options_.capacity && options_.drop_when_full) {
      stats_.dropped.fetch_add(1, std::memory_order_relaxed);
      if (!warned_full_) {
        warned_full_ = true;
        LogWarning(absl::StrCat("sink ", options_.name, ": queue full (", options_.capacity,
                                " alerts); dropping new alerts"));
      }
      if (e.ticket) e.ticket->Done();
      return;
    }
    queue_.push_back(std::move(e));
    stats_.queued.store(queue_.size(), std::memory_order_relaxed);
    if (queue_.size() >= options_.capacity && !options_.drop_when_full) {
      stats_.saturated.store(true, std::memory_order_relaxed);
    }
  }
  // The worker waits only on an empty queue; a busy one needs no wake-up call per alert.
  if (was_empty) wake_.notify_one();
}

bool SinkWorker::empty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty();
}

void SinkWorker::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
}

void SinkWorker::Join() {
  if (thread_.joinable()) thread_.join();
}

void SinkWorker::Run() {
  const size_t max_batch = std::max<size_t>(1, sink_->max_batch());
  absl::Time next_tick = clock_.TimeNow();
  std::vector<QueuedAlert> batch;
  std::vector<const Alert*> alerts;
  while (true) {
    batch.clear();
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      // The batch stays at the head of the queue until it is delivered: queue depth counts it
      // and a full queue keeps the source paused meanwhile.
      for (size_t i = 0; i < queue_.size() && i < max_batch; ++i) batch.push_back(queue_[i]);
    }
    const absl::Time now = clock_.TimeNow();
    if (now >= next_tick) {
      sink_->Tick(now);
      next_tick = now + absl::Seconds(1);
    }
    if (batch.empty()) continue;
    alerts.clear();
    for (const QueuedAlert& e : batch) alerts.push_back(e.alert.get());
    if (!DeliverWithRetries(batch, alerts)) return;  // stopped while retrying
    // The tickets first: an empty queue then means every ticket of it was told, so a worker
    // draining (Dispatcher::WaitIdle) commits what was delivered.
    for (const QueuedAlert& e : batch) {
      if (e.ticket) e.ticket->Done();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(batch.size()));
      stats_.queued.store(queue_.size(), std::memory_order_relaxed);
      if (queue_.size() <= options_.capacity / 2) {
        stats_.saturated.store(false, std::memory_order_relaxed);
      }
    }
    on_done_(batch.back().seq);
  }
}

bool SinkWorker::DeliverWithRetries(const std::vector<QueuedAlert>& batch,
                                    const std::vector<const Alert*>& alerts) {
  for (int attempt = 0;; ++attempt) {
    const absl::Status status = sink_->Deliver(alerts);
    if (status.ok()) {
      stats_.delivered.fetch_add(batch.size(), std::memory_order_relaxed);
      const absl::Time now = clock_.TimeNow();
      for (const QueuedAlert& e : batch) stats_.latency.Observe(now - e.queued_at);
      if (attempt > 0) {
        LogInfo(absl::StrCat("sink ", options_.name, ": delivering again after ", attempt,
                             " failed attempt(s)"));
      }
      return true;
    }
    if (!IsRetryable(status)) {
      if (batch.size() > 1) {
        for (size_t i = 0; i < batch.size(); ++i) {
          if (!DeliverWithRetries({batch[i]}, {alerts[i]})) return false;
        }
        return true;
      }
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      LogRefusal(status);
      return true;
    }
    stats_.retried.fetch_add(batch.size(), std::memory_order_relaxed);
    const absl::Duration wait =
        RetryWait({.backoff = options_.retry_backoff,
                   .backoff_max = options_.retry_backoff_max,
                   .retry_after_max = options_.retry_after_max},
                  attempt, RetryAfter(status), absl::Uniform(random_, 0.0, 1.0));
    if (attempt == 0) {
      LogWarning(absl::StrCat("sink ", options_.name, ": ", status.message(),
                              "; retrying with backoff (logged again when it recovers)"));
    }
    if (!Sleep(wait)) return false;
  }
}

void SinkWorker::LogRefusal(const absl::Status& status) {
  // Once per kind of refusal ("HTTP 404 from <peer>", the message up to its detail): a bad
  // payload or a revoked token is visible, not a flood.
  const std::string message(status.message());
  const std::string kind = message.substr(0, message.find(": "));
  if (refusals_logged_.size() < 64 && refusals_logged_.insert(kind).second) {
    LogError(absl::StrCat("sink ", options_.name, ": ", message,
                          " (not retried; counted in faultline_sink_failed_total)"));
  }
}

bool SinkWorker::Sleep(absl::Duration d) {
  const absl::Time until = clock_.TimeNow() + d;
  for (absl::Time now = clock_.TimeNow(); now < until; now = clock_.TimeNow()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return false;
    }
    clock_.SleepFor(std::min(until - now, absl::Milliseconds(50)));
  }
  return true;
}

}  // namespace faultline
