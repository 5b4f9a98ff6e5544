#include "sinks/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "sinks/spool/journal.h"
#include "sinks/spool/spool.h"

namespace faultline {
namespace {

// Checks the names and names the unnamed routes by their type: webhook, webhook-2, ...
absl::Status NameRoutes(std::vector<Dispatcher::Route>& routes, bool spooled) {
  std::set<std::string> names;
  for (const Dispatcher::Route& r : routes) {
    if (!r.queue.name.empty() && !names.insert(r.queue.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("two sinks are named \"", r.queue.name, "\"; names must be unique"));
    }
  }
  // Best-effort sinks (on_full: drop) are not journaled: a dead chat webhook must not keep the
  // spool growing. Journaled sinks keep their place in the spool by name, so two of one type
  // need names of their own (webhook, webhook-2 would follow their order in the file).
  std::map<std::string, int> unnamed_journaled_of_type;
  for (const Dispatcher::Route& r : routes) {
    if (r.queue.name.empty() && !r.queue.drop_when_full) ++unnamed_journaled_of_type[r.type];
  }
  for (const auto& [type, n] : unnamed_journaled_of_type) {
    if (spooled && n > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("with delivery.spool_dir, give each ", type,
                       " sink a name: the spool keeps each sink's place by its name"));
    }
  }
  for (Dispatcher::Route& r : routes) {
    if (!r.queue.name.empty()) continue;
    r.queue.name = r.type;
    for (int n = 2; names.count(r.queue.name) > 0; ++n) r.queue.name = absl::StrCat(r.type, "-", n);
    names.insert(r.queue.name);
  }
  return absl::OkStatus();
}

}  // namespace

Dispatcher::Dispatcher(Clock& clock) : clock_(clock) {}

absl::StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Create(std::vector<Route> routes,
                                                               const std::string& spool_dir,
                                                               Clock& clock) {
  if (absl::Status s = NameRoutes(routes, !spool_dir.empty()); !s.ok()) return s;
  std::unique_ptr<Dispatcher> d(new Dispatcher(clock));
  d->spool_dir_ = spool_dir;
  // Each journaled sink's cursor in the spool; -1: not journaled.
  d->cursor_.assign(routes.size(), -1);
  if (!spool_dir.empty()) {
    for (size_t i = 0; i < routes.size(); ++i) {
      if (routes[i].queue.drop_when_full) continue;
      d->cursor_[i] = static_cast<int>(d->journaled_.size());
      d->journaled_.push_back(routes[i].queue.name);
    }
  }
  Dispatcher* self = d.get();
  for (size_t i = 0; i < routes.size(); ++i) {
    const int index = d->cursor_[i];
    d->workers_.push_back(std::make_unique<SinkWorker>(
        std::move(routes[i].queue), std::move(routes[i].type), std::move(routes[i].sink), clock,
        [self, index](uint64_t last_seq) {
          // A sequence number comes from the spool, so it is open.
          if (index >= 0 && last_seq != 0) {
            self->open_spool_.load(std::memory_order_acquire)
                ->Delivered(static_cast<size_t>(index), last_seq);
          }
          self->OnProgress();
        }));
  }
  if (spool_dir.empty()) return d;

  absl::StatusOr<Spool*> spool = d->OpenSpool();
  if (spool.status().code() == absl::StatusCode::kInvalidArgument) return spool.status();
  if (!spool.ok()) {
    // An I/O failure (a read-only or missing disk) is a fault of the host that may pass: the
    // service starts, acknowledges nothing (so commits wait and the source pauses), and the
    // journal tries again every second, counting each failure.
    LogError(absl::StrCat(spool.status().message(),
                          "; nothing is acknowledged until it opens, retrying every second"));
  }
  d->journal_ = std::make_unique<Journal>(
      spool.ok() ? *spool : nullptr, [self] { return self->OpenSpool(); }, clock,
      [self](const std::shared_ptr<const Alert>& alert, absl::Time queued_at, uint64_t seq) {
        for (auto& w : self->workers_) {
          w->Push({.alert = alert, .queued_at = queued_at, .seq = seq});
        }
      },
      [self] { self->OnProgress(); });
  return d;
}

absl::StatusOr<Spool*> Dispatcher::OpenSpool() {
  absl::StatusOr<std::unique_ptr<Spool>> spool = Spool::Open(spool_dir_, journaled_);
  if (!spool.ok()) {
    return absl::Status(spool.status().code(),
                        absl::StrCat("delivery.spool_dir: ", spool.status().message()));
  }
  spool_ = std::move(*spool);
  // Before anything of it is queued: a worker tells it what it delivered.
  open_spool_.store(spool_.get(), std::memory_order_release);
  const absl::Time now = clock_.TimeNow();
  uint64_t recovered = 0;
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (cursor_[i] < 0) continue;
    for (Spool::Record& r : spool_->Pending(static_cast<size_t>(cursor_[i]))) {
      workers_[i]->Push({.alert = std::move(r.alert), .queued_at = now, .seq = r.seq});
      ++recovered;
    }
  }
  if (recovered > 0) {
    LogInfo(absl::StrCat("spool: ", recovered, " undelivered alert(s) from the last run queued"));
  }
  return spool_.get();
}

Dispatcher::~Dispatcher() { Stop(absl::ZeroDuration()); }

void Dispatcher::Start() {
  if (started_ || stopped_) return;
  started_ = true;
  if (journal_) journal_->Start();
  for (auto& w : workers_) w->Start();
}

void Dispatcher::Submit(std::shared_ptr<const Alert> alert,
                        const std::shared_ptr<DeliveryTicket>& ticket) {
  const absl::Time now = clock_.TimeNow();
  if (journal_) {
    journal_->Submit(std::move(alert), ticket, now);
    return;
  }
  if (ticket) ticket->Expect(static_cast<int>(workers_.size()));
  for (auto& w : workers_) w->Push({.alert = alert, .ticket = ticket, .queued_at = now});
}

bool Dispatcher::Saturated() const {
  if (journal_ && journal_->Saturated()) return true;
  for (const auto& w : workers_) {
    if (w->stats().saturated.load(std::memory_order_relaxed)) return true;
  }
  return false;
}

bool Dispatcher::Idle() const {
  if (journal_ && !journal_->Idle()) return false;
  for (const auto& w : workers_) {
    if (!w->empty()) return false;
  }
  return true;
}

void Dispatcher::OnProgress() {
  // Taking the lock orders this after a Stop() that just found the dispatcher busy, so that
  // Stop() cannot miss the notification between its check and its wait.
  { std::lock_guard<std::mutex> lock(progress_mu_); }
  progress_.notify_all();
}

bool Dispatcher::WaitIdle(absl::Duration timeout) {
  if (!started_) return Idle();
  std::unique_lock<std::mutex> lock(progress_mu_);
  return progress_.wait_for(lock, absl::ToChronoMilliseconds(std::min(timeout, absl::Hours(24))),
                            [this] { return Idle(); });
}

void Dispatcher::Stop(absl::Duration timeout) {
  if (stopped_) return;
  stopped_ = true;
  if (started_) WaitIdle(timeout);
  if (journal_) journal_->Stop();
  // All at once: a worker in the middle of a delivery finishes it (its sink's timeout), and the
  // others need not wait for it in turn.
  for (auto& w : workers_) w->RequestStop();
  for (auto& w : workers_) w->Join();
  if (spool_) {  // the journal's thread, which may have opened it, is stopped
    if (absl::Status s = spool_->Checkpoint(); !s.ok()) LogError(s.message());
  }
}

std::vector<Dispatcher::SinkInfo> Dispatcher::sinks() const {
  std::vector<SinkInfo> out;
  for (const auto& w : workers_) {
    out.push_back({w->options().name, w->type(), w->options().capacity, w->stats()});
  }
  return out;
}

uint64_t Dispatcher::spool_write_errors() const { return journal_ ? journal_->write_errors() : 0; }

size_t Dispatcher::unjournaled() const { return journal_ ? journal_->waiting() : 0; }

}  // namespace faultline
