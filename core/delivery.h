// DeliveryTicket: what one message set off that is not finished when the message handler returns
// (its alerts on their way to the sinks, its dead letter on its way to Kafka). The source keeps
// the ticket and commits past the message only once done() is true, so a committed offset never
// passes an alert that was not delivered or durably queued (at-least-once).
//
// Created on the source thread by the pipeline, which calls Expect() once per delivery it starts;
// each delivery calls Done() exactly once, from whatever thread finishes it.
#pragma once

#include <atomic>

namespace faultline {

class DeliveryTicket {
 public:
  void Expect(int deliveries = 1) { pending_.fetch_add(deliveries, std::memory_order_relaxed); }
  void Done() { pending_.fetch_sub(1, std::memory_order_release); }
  bool done() const { return pending_.load(std::memory_order_acquire) == 0; }

 private:
  std::atomic<int> pending_{0};
};

}  // namespace faultline
