#include "sinks/dispatcher.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "core/strings.h"
#include "sinks/retry.h"
#include "sinks/spool/spool.h"

namespace faultline {
namespace {

struct Entry {
  std::shared_ptr<const Alert> alert;
  std::shared_ptr<DeliveryTicket> ticket;  // null with a spool: the journal acknowledges
  absl::Time queued_at;
  uint64_t seq = 0;  // spool sequence number; 0 without a spool
};

}  // namespace

// One sink's queue and the thread that drains it.
class Dispatcher::Worker {
 public:
  // `spool_index`: this sink's cursor in `spool`, or -1 when its alerts are not journaled (no
  // spool, or a best-effort sink with on_full: drop).
  Worker(Route route, int spool_index, Spool* spool, Clock& clock)
      : route_(std::move(route)), spool_index_(spool_index), spool_(spool), clock_(clock) {}

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Push(Entry e) {
    bool was_empty;
    {
      std::lock_guard<std::mutex> lock(mu_);
      was_empty = queue_.empty();
      if (queue_.size() >= route_.queue.capacity && route_.queue.drop_when_full) {
        stats_.dropped.fetch_add(1, std::memory_order_relaxed);
        if (!warned_full_) {
          warned_full_ = true;
          LogWarning(absl::StrCat("sink ", route_.queue.name, ": queue full (",
                                  route_.queue.capacity, " alerts); dropping new alerts"));
        }
        if (e.ticket) e.ticket->Done();
        return;
      }
      // With back-pressure the queue takes it anyway (one message raises a handful of alerts at
      // most) and says it is full: the source pauses before the next message.
      queue_.push_back(std::move(e));
      stats_.queued.store(queue_.size(), std::memory_order_relaxed);
      if (queue_.size() >= route_.queue.capacity && !route_.queue.drop_when_full) {
        stats_.saturated.store(true, std::memory_order_relaxed);
      }
    }
    // The worker waits only on an empty queue; a busy one needs no wake-up call per alert.
    if (was_empty) wake_.notify_one();
  }

  bool empty() {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.empty();
  }

  // Asks the worker to stop; a delivery in progress finishes (bounded by the sink's timeout).
  void RequestStop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  const Route& route() const { return route_; }
  const SinkStats& stats() const { return stats_; }

 private:
  void Run() {
    const size_t max_batch = std::max<size_t>(1, route_.sink->max_batch());
    absl::Time next_tick = clock_.TimeNow();
    std::vector<Entry> batch;
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
        route_.sink->Tick(now);
        next_tick = now + absl::Seconds(1);
      }
      if (batch.empty()) continue;
      alerts.clear();
      for (const Entry& e : batch) alerts.push_back(e.alert.get());
      if (!DeliverWithRetries(batch, alerts)) return;  // stopped while retrying
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(batch.size()));
        stats_.queued.store(queue_.size(), std::memory_order_relaxed);
        if (queue_.size() <= route_.queue.capacity / 2) {
          stats_.saturated.store(false, std::memory_order_relaxed);
        }
      }
      for (const Entry& e : batch) {
        if (e.ticket) e.ticket->Done();
      }
      if (spool_index_ >= 0 && batch.back().seq != 0) {
        spool_->Delivered(static_cast<size_t>(spool_index_), batch.back().seq);
      }
    }
  }

  // Delivers the batch, retrying retryable failures until they succeed or the dispatcher stops
  // (false). A batch refused for good is tried again alert by alert, so one alert the peer
  // cannot take does not take its batch with it; an alert refused alone counts as done.
  bool DeliverWithRetries(const std::vector<Entry>& batch,
                          const std::vector<const Alert*>& alerts) {
    const QueueOptions& q = route_.queue;
    for (int attempt = 0;; ++attempt) {
      const absl::Status status = route_.sink->Deliver(alerts);
      if (!status.ok() && !IsRetryable(status) && batch.size() > 1) {
        for (size_t i = 0; i < batch.size(); ++i) {
          if (!DeliverWithRetries({batch[i]}, {alerts[i]})) return false;
        }
        return true;
      }
      if (status.ok()) {
        stats_.delivered.fetch_add(batch.size(), std::memory_order_relaxed);
        const absl::Time now = clock_.TimeNow();
        for (const Entry& e : batch) stats_.latency.Observe(now - e.queued_at);
        if (attempt > 0) {
          LogInfo(absl::StrCat("sink ", q.name, ": delivering again after ", attempt,
                               " failed attempt(s)"));
        }
        return true;
      }
      if (!IsRetryable(status)) {
        stats_.failed.fetch_add(batch.size(), std::memory_order_relaxed);
        // Once per kind of refusal ("HTTP 404 from <peer>", the message up to its detail): a bad
        // payload or a revoked token is visible, not a flood.
        const std::string message(status.message());
        const std::string kind = message.substr(0, message.find(": "));
        if (refusals_logged_.size() < 64 && refusals_logged_.insert(kind).second) {
          LogError(absl::StrCat("sink ", q.name, ": ", message,
                                " (not retried; counted in "
                                "faultline_sink_failed_total)"));
        }
        return true;
      }
      stats_.retried.fetch_add(batch.size(), std::memory_order_relaxed);
      const absl::Duration wait =
          RetryWait({.backoff = q.retry_backoff,
                     .backoff_max = q.retry_backoff_max,
                     .retry_after_max = q.retry_after_max},
                    attempt, RetryAfter(status), absl::Uniform(random_, 0.0, 1.0));
      if (attempt == 0) {
        LogWarning(absl::StrCat("sink ", q.name, ": ", status.message(),
                                "; retrying with backoff (logged again when it recovers)"));
      }
      if (!Sleep(wait)) return false;
    }
  }

  // Sleeps on the injected clock in short steps, so Stop() interrupts a long backoff.
  bool Sleep(absl::Duration d) {
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

  Route route_;
  int spool_index_;
  Spool* spool_;
  Clock& clock_;
  SinkStats stats_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built for ThreadSanitizer, which then
  // cannot see absl::Mutex synchronize (every guarded access reads as a race).
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Entry> queue_;                // guarded by mu_
  bool stop_ = false;                      // guarded by mu_
  bool warned_full_ = false;               // guarded by mu_
  std::set<std::string> refusals_logged_;  // kinds already logged; worker thread only
  absl::BitGen random_;                    // worker thread only
  std::thread thread_;
};

// Alerts submitted but not yet in the spool (journal thread input).
struct Dispatcher::Pending {
  std::mutex mu;
  std::condition_variable wake;
  std::vector<Entry> entries;  // guarded by mu
  bool writing = false;        // guarded by mu
  bool stop = false;           // guarded by mu
  // For Saturated(), without the lock: entries waiting, and whether appends are failing.
  std::atomic<size_t> count{0};
  std::atomic<bool> failing{false};
};

namespace {
// Alerts waiting for the journal beyond which the source pauses (an append takes milliseconds;
// only a failing disk lets them pile up).
constexpr size_t kMaxUnjournaled = 10000;
}  // namespace

Dispatcher::Dispatcher(Clock& clock) : clock_(clock) {}

absl::StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Create(std::vector<Route> routes,
                                                               const std::string& spool_dir,
                                                               Clock& clock) {
  std::set<std::string> names;
  for (const Route& r : routes) {
    if (!r.queue.name.empty() && !names.insert(r.queue.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two sinks are named \"", r.queue.name, "\"; names must be unique"));
    }
  }
  // Best-effort sinks (on_full: drop) are not journaled: a dead chat webhook must not keep the
  // spool growing. Journaled sinks keep their place in the spool by name, so two of one type
  // need names of their own (webhook, webhook-2 would follow their order in the file).
  std::map<std::string, int> unnamed_journaled_of_type;
  for (const Route& r : routes) {
    if (r.queue.name.empty() && !r.queue.drop_when_full) ++unnamed_journaled_of_type[r.type];
  }
  for (const auto& [type, n] : unnamed_journaled_of_type) {
    if (!spool_dir.empty() && n > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("with delivery.spool_dir, give each ", type,
                       " sink a name: the spool keeps each sink's place by its name"));
    }
  }
  // Unnamed sinks are called by their type: webhook, webhook-2, ...
  for (Route& r : routes) {
    if (!r.queue.name.empty()) continue;
    r.queue.name = r.type;
    for (int n = 2; names.count(r.queue.name) > 0; ++n) r.queue.name = absl::StrCat(r.type, "-", n);
    names.insert(r.queue.name);
  }
  std::unique_ptr<Dispatcher> d(new Dispatcher(clock));
  std::vector<int> spool_index(routes.size(), -1);
  if (!spool_dir.empty()) {
    std::vector<std::string> journaled;
    for (size_t i = 0; i < routes.size(); ++i) {
      if (routes[i].queue.drop_when_full) continue;
      spool_index[i] = static_cast<int>(journaled.size());
      journaled.push_back(routes[i].queue.name);
    }
    absl::StatusOr<std::unique_ptr<Spool>> spool = Spool::Open(spool_dir, journaled);
    if (!spool.ok()) return spool.status();
    d->spool_ = std::move(*spool);
    d->pending_ = std::make_unique<Pending>();
  }
  for (size_t i = 0; i < routes.size(); ++i) {
    d->workers_.push_back(
        std::make_unique<Worker>(std::move(routes[i]), spool_index[i], d->spool_.get(), clock));
  }
  if (d->spool_) {
    const absl::Time now = clock.TimeNow();
    uint64_t recovered = 0;
    for (size_t i = 0; i < d->workers_.size(); ++i) {
      if (spool_index[i] < 0) continue;
      for (Spool::Record& r : d->spool_->Pending(static_cast<size_t>(spool_index[i]))) {
        d->workers_[i]->Push(Entry{.alert = std::move(r.alert), .queued_at = now, .seq = r.seq});
        ++recovered;
      }
    }
    if (recovered > 0) {
      LogInfo(absl::StrCat("spool: ", recovered, " undelivered alert(s) from the last run queued"));
    }
    d->journal_ = std::thread([p = d.get()] { p->JournalLoop(); });
  }
  for (auto& w : d->workers_) w->Start();
  return d;
}

Dispatcher::~Dispatcher() { Stop(absl::ZeroDuration()); }

void Dispatcher::Submit(std::shared_ptr<const Alert> alert,
                        const std::shared_ptr<DeliveryTicket>& ticket) {
  const absl::Time now = clock_.TimeNow();
  if (spool_) {
    if (ticket) ticket->Expect(1);
    {
      std::lock_guard<std::mutex> lock(pending_->mu);
      pending_->entries.push_back(
          Entry{.alert = std::move(alert), .ticket = ticket, .queued_at = now});
      pending_->count.store(pending_->entries.size(), std::memory_order_relaxed);
    }
    pending_->wake.notify_one();
    return;
  }
  if (ticket) ticket->Expect(static_cast<int>(workers_.size()));
  for (auto& w : workers_) w->Push(Entry{.alert = alert, .ticket = ticket, .queued_at = now});
}

void Dispatcher::JournalLoop() {
  absl::Time next_checkpoint = clock_.TimeNow();
  bool failing = false;
  std::vector<Entry> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(pending_->mu);
      pending_->wake.wait_for(lock, std::chrono::seconds(1),
                              [this] { return pending_->stop || !pending_->entries.empty(); });
      if (pending_->stop) return;
      batch.swap(pending_->entries);
      pending_->count.store(0, std::memory_order_relaxed);
      pending_->writing = !batch.empty();
    }
    if (!batch.empty()) {
      std::vector<Spool::Record> records;
      for (const Entry& e : batch) records.push_back({.alert = e.alert});
      if (absl::Status s = spool_->Append(records); !s.ok()) {
        spool_write_errors_.fetch_add(1, std::memory_order_relaxed);
        if (!failing) LogError(absl::StrCat(s.message(), "; retrying every second"));
        failing = true;
        // Nothing is acknowledged meanwhile, so commits stop, and the source pauses.
        pending_->failing.store(true, std::memory_order_relaxed);
        // Delivered segments may be what fills the disk: free them.
        if (absl::Status c = spool_->Checkpoint(); !c.ok()) LogError(c.message());
        std::unique_lock<std::mutex> lock(pending_->mu);
        pending_->entries.insert(pending_->entries.begin(), batch.begin(), batch.end());
        pending_->count.store(pending_->entries.size(), std::memory_order_relaxed);
        batch.clear();
        pending_->writing = false;
        pending_->wake.wait_for(lock, std::chrono::seconds(1), [this] { return pending_->stop; });
        continue;
      }
      if (failing) LogInfo("spool: appending again");
      pending_->failing.store(false, std::memory_order_relaxed);
      failing = false;
      for (size_t i = 0; i < batch.size(); ++i) {
        if (batch[i].ticket) batch[i].ticket->Done();
        for (auto& w : workers_) {
          w->Push(Entry{
              .alert = batch[i].alert, .queued_at = batch[i].queued_at, .seq = records[i].seq});
        }
      }
      batch.clear();
      std::lock_guard<std::mutex> lock(pending_->mu);
      pending_->writing = false;
    }
    if (clock_.TimeNow() >= next_checkpoint) {
      if (absl::Status s = spool_->Checkpoint(); !s.ok()) LogError(s.message());
      next_checkpoint = clock_.TimeNow() + absl::Seconds(1);
    }
  }
}

bool Dispatcher::Saturated() const {
  if (pending_ && (pending_->failing.load(std::memory_order_relaxed) ||
                   pending_->count.load(std::memory_order_relaxed) >= kMaxUnjournaled)) {
    return true;
  }
  for (const auto& w : workers_) {
    if (w->stats().saturated.load(std::memory_order_relaxed)) return true;
  }
  return false;
}

bool Dispatcher::Idle() {
  if (pending_) {
    std::lock_guard<std::mutex> lock(pending_->mu);
    if (!pending_->entries.empty() || pending_->writing) return false;
  }
  for (auto& w : workers_) {
    if (!w->empty()) return false;
  }
  return true;
}

void Dispatcher::Stop(absl::Duration timeout) {
  if (stopped_) return;
  stopped_ = true;
  {
    // Real time, not the injected clock: this bounds how long a shutdown waits for peers.
    std::mutex mu;
    std::condition_variable never_notified;
    std::unique_lock<std::mutex> lock(mu);
    const absl::Duration step = absl::Milliseconds(10);
    for (absl::Duration waited; waited < timeout && !Idle(); waited += step) {
      never_notified.wait_for(lock, std::chrono::milliseconds(10));
    }
  }
  if (pending_) {
    {
      std::lock_guard<std::mutex> plock(pending_->mu);
      pending_->stop = true;
    }
    pending_->wake.notify_one();
    journal_.join();
  }
  // All at once: a worker in the middle of a delivery finishes it (its sink's timeout), and the
  // others need not wait for it in turn.
  for (auto& w : workers_) w->RequestStop();
  for (auto& w : workers_) w->Join();
  if (spool_) {
    if (absl::Status s = spool_->Checkpoint(); !s.ok()) LogError(s.message());
  }
}

std::vector<Dispatcher::SinkInfo> Dispatcher::sinks() const {
  std::vector<SinkInfo> out;
  for (const auto& w : workers_) {
    out.push_back({w->route().queue.name, w->route().type, w->route().queue.capacity, w->stats()});
  }
  return out;
}

}  // namespace faultline
