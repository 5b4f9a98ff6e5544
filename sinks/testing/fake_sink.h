// A Sink for tests: keeps every alert it is sent (thread-safe: the dispatcher calls it on its
// worker thread), and can be told to fail: retryably (a peer that is down) or for good.
#pragma once

#include <mutex>
#include <vector>

#include "sinks/sink.h"

namespace faultline {

class FakeSink final : public Sink {
 public:
  absl::Status Deliver(absl::Span<const Alert* const> alerts) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (!status_.ok()) return status_;
    for (const Alert* a : alerts) alerts_.push_back(*a);
    return absl::OkStatus();
  }
  size_t max_batch() const override { return batch_; }

  // What Deliver returns from now on (OK: it delivers).
  void set_status(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = std::move(status);
  }
  void set_max_batch(size_t n) { batch_ = n; }
  std::vector<Alert> alerts() const {
    std::lock_guard<std::mutex> lock(mu_);
    return alerts_;
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Alert> alerts_;  // guarded by mu_
  absl::Status status_;        // guarded by mu_
  int calls_ = 0;              // guarded by mu_
  size_t batch_ = 1;
};

}  // namespace faultline
