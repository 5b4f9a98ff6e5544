// The journal thread of a dispatcher with a spool (`delivery.spool_dir`): Submit() hands it an
// alert and never blocks; the thread appends what was submitted to the Spool in batches (one
// fdatasync per batch), tells the alerts' tickets (the source may commit past their events
// once they are durable), then forwards each alert with its spool sequence number to the sink
// workers. Once a second it persists the sinks' cursors and deletes drained segments.
//
// While appends fail (a full disk) nothing is acknowledged, so commits stop, Saturated() turns
// true and the source pauses; the batch is tried again every second. A spool that could not be
// opened at start (a read-only or missing disk) is the same fault: the thread tries to open it
// every second, each failure counted as a write error, until it opens.
//
// Threads: Submit(), Saturated() on the workers' detect threads (Submit takes a lock); the
// journal's own thread; Idle() and Stop() on the thread that stops the dispatcher.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/alert.h"
#include "core/clock.h"
#include "core/delivery.h"
#include "sinks/spool/spool.h"

namespace faultline {

class Journal {
 public:
  // Called on the journal thread for each alert once it is durable, oldest first.
  using Forward = std::function<void(const std::shared_ptr<const Alert>& alert,
                                     absl::Time queued_at, uint64_t seq)>;
  // Called on the journal thread after each batch it took on (appended or put back).
  using OnProgress = std::function<void()>;
  // Opens the spool (and queues what it recovered); called on the journal thread until it
  // succeeds when the journal starts without one.
  using OpenSpool = std::function<absl::StatusOr<Spool*>()>;

  // `spool` may be null: it could not be opened yet, and `open` is tried every second.
  Journal(Spool* spool, OpenSpool open, Clock& clock, Forward forward, OnProgress on_progress);
  ~Journal();

  void Start();
  // Queues `alert` for the spool; `ticket` (may be null) expects one Done, told once durable.
  void Submit(std::shared_ptr<const Alert> alert, const std::shared_ptr<DeliveryTicket>& ticket,
              absl::Time now);
  // True while the spool is not open, appends fail or too many alerts wait for the journal.
  bool Saturated() const;
  // Nothing waiting and nothing being written.
  bool Idle() const;
  // Stops the thread; what is still waiting stays unacknowledged. Idempotent.
  void Stop();
  uint64_t write_errors() const { return write_errors_.load(std::memory_order_relaxed); }
  // Alerts submitted and not yet durable (none is acknowledged).
  size_t waiting() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Pending {
    std::shared_ptr<const Alert> alert;
    std::shared_ptr<DeliveryTicket> ticket;
    absl::Time queued_at;
  };
  void Run();
  // Opens the spool if it is not open; false (counted, logged once) when it cannot be.
  bool EnsureOpen(bool* failing);
  // Appends `batch` and forwards it; false (the batch put back) when the append failed.
  bool Write(std::vector<Pending>& batch, bool* failing);
  // Counts a failed open or append; logs the first of a run of them.
  void Failed(const absl::Status& status, bool* failing);

  Spool* spool_;  // the journal thread's once started; null until opened
  const OpenSpool open_;
  Clock& clock_;
  const Forward forward_;
  const OnProgress on_progress_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Pending> pending_;  // guarded by mu_
  bool writing_ = false;          // guarded by mu_
  bool stop_ = false;             // guarded by mu_
  // For Saturated(), without the lock: alerts waiting, and whether appends are failing.
  std::atomic<size_t> count_{0};
  std::atomic<bool> failing_;
  std::atomic<uint64_t> write_errors_{0};
  std::thread thread_;
};

}  // namespace faultline
