#include "sinks/spool/journal.h"

#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace faultline {
namespace {

// Alerts waiting for the journal beyond which the source pauses (an append takes milliseconds;
// only a failing disk lets them pile up).
constexpr size_t kMaxUnjournaled = 10000;

}  // namespace

Journal::Journal(Spool* spool, OpenSpool open, Clock& clock, Forward forward,
                 OnProgress on_progress)
    : spool_(spool),
      open_(std::move(open)),
      clock_(clock),
      forward_(std::move(forward)),
      on_progress_(std::move(on_progress)),
      failing_(spool == nullptr) {}

Journal::~Journal() { Stop(); }

void Journal::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Journal::Submit(std::shared_ptr<const Alert> alert,
                     const std::shared_ptr<DeliveryTicket>& ticket, absl::Time now) {
  if (ticket) ticket->Expect(1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back({.alert = std::move(alert), .ticket = ticket, .queued_at = now});
    count_.store(pending_.size(), std::memory_order_relaxed);
  }
  wake_.notify_one();
}

bool Journal::Saturated() const {
  return failing_.load(std::memory_order_relaxed) ||
         count_.load(std::memory_order_relaxed) >= kMaxUnjournaled;
}

bool Journal::Idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.empty() && !writing_;
}

void Journal::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Journal::Run() {
  absl::Time next_checkpoint = clock_.TimeNow();
  bool failing = spool_ == nullptr;  // the dispatcher said so when it could not open it
  std::vector<Pending> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || !pending_.empty(); });
      if (stop_) return;
      batch.swap(pending_);
      count_.store(0, std::memory_order_relaxed);
      writing_ = !batch.empty();
    }
    const bool open = EnsureOpen(&failing);
    if (!batch.empty()) {
      const bool written = open && Write(batch, &failing);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!written) {  // back at the head, in order, for the next attempt
          pending_.insert(pending_.begin(), batch.begin(), batch.end());
          count_.store(pending_.size(), std::memory_order_relaxed);
        }
        writing_ = false;
      }
      batch.clear();
      on_progress_();  // outside mu_: the dispatcher's Stop() holds its lock while asking Idle()
      if (!written) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
        continue;
      }
    }
    if (open && clock_.TimeNow() >= next_checkpoint) {
      if (absl::Status s = spool_->Checkpoint(); !s.ok()) LogError(s.message());
      next_checkpoint = clock_.TimeNow() + absl::Seconds(1);
    }
  }
}

bool Journal::EnsureOpen(bool* failing) {
  if (spool_ != nullptr) return true;
  absl::StatusOr<Spool*> spool = open_();
  if (!spool.ok()) {
    Failed(spool.status(), failing);
    return false;
  }
  spool_ = *spool;
  LogInfo("spool: opened, appending");
  // Acknowledging again: the source resumes (it may be paused, with no alert on its way).
  *failing = false;
  failing_.store(false, std::memory_order_relaxed);
  return true;
}

void Journal::Failed(const absl::Status& status, bool* failing) {
  write_errors_.fetch_add(1, std::memory_order_relaxed);
  if (!*failing) LogError(absl::StrCat(status.message(), "; retrying every second"));
  *failing = true;
  // Nothing is acknowledged meanwhile, so commits stop, and the source pauses.
  failing_.store(true, std::memory_order_relaxed);
}

bool Journal::Write(std::vector<Pending>& batch, bool* failing) {
  std::vector<Spool::Record> records;
  records.reserve(batch.size());
  for (const Pending& p : batch) records.push_back({.alert = p.alert});
  if (absl::Status s = spool_->Append(records); !s.ok()) {
    Failed(s, failing);
    // Delivered segments may be what fills the disk: free them.
    if (absl::Status c = spool_->Checkpoint(); !c.ok()) LogError(c.message());
    return false;
  }
  if (*failing) LogInfo("spool: appending again");
  *failing = false;
  failing_.store(false, std::memory_order_relaxed);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].ticket) batch[i].ticket->Done();
    forward_(batch[i].alert, batch[i].queued_at, records[i].seq);
  }
  return true;
}

}  // namespace faultline
