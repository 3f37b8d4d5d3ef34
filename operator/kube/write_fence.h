// SPDX-License-Identifier: Apache-2.0
// WriteFence: the point in time from which this process writes nothing to the API server, and
// the watchdog that holds every request to it.
//
// Leader election moves the fence (leader/lease.h): to the renew deadline on each successful
// renewal, to the past when leadership ends. The client (kube/client.h) asks Allowed() before it
// sends a write, and registers each write it sends with Begin(): the watchdog thread calls that
// request's abort function the moment the fence passes (or the request's own deadline does),
// whatever the request is doing then, connecting, sending or waiting for the answer. So a write
// is never sent, nor answered, after the fence, even when the thread that renews the lease is
// stuck on a stalled connection.
//
// Requests with a deadline but no fence (the Lease requests themselves) go through the same
// watchdog. Time is the injected Clock's (base/clock.h).
#ifndef AKROBATEO_OPERATOR_KUBE_WRITE_FENCE_H_
#define AKROBATEO_OPERATOR_KUBE_WRITE_FENCE_H_

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

#include "operator/base/clock.h"

namespace akrobateo::kube {

class WriteFence {
 public:
  explicit WriteFence(Clock* clock = Clock::Real()) : clock_(clock) {}
  ~WriteFence();
  WriteFence(const WriteFence&) = delete;
  WriteFence& operator=(const WriteFence&) = delete;

  // Writes are allowed before `until` only. Default: always (no leader election). Moving it
  // earlier also aborts the writes in flight that it now cuts off.
  void Set(Clock::time_point until);
  Clock::time_point Deadline() const { return Clock::time_point(Clock::duration(fence_.load())); }
  bool Allowed() const { return clock_->Now() < Deadline(); }
  // The earlier of `deadline` and, for a fenced request, the fence.
  Clock::time_point Until(Clock::time_point deadline, bool fenced) const {
    return fenced ? std::min(deadline, Deadline()) : deadline;
  }
  Clock* clock() const { return clock_; }

  // A request in flight, from Begin to End.
  struct InFlight {
    std::function<void()> abort;
    Clock::time_point deadline;
    bool fenced = false;
    bool aborted = false;  // the watchdog called `abort`
  };
  using Ticket = std::list<InFlight>::iterator;
  // Watches a request: `abort` is called once, on the watchdog's thread, when `deadline` or
  // (when `fenced`) the fence passes before End. It must make the request return soon.
  Ticket Begin(std::function<void()> abort, Clock::time_point deadline, bool fenced);
  // Stops watching; true when the request was aborted.
  bool End(Ticket t);

 private:
  void Watchdog();

  Clock* clock_;
  std::atomic<Clock::rep> fence_{Clock::time_point::max().time_since_epoch().count()};
  std::mutex mu_;
  std::condition_variable cv_;
  std::list<InFlight> in_flight_;  // guarded by mu_
  uint64_t changes_ = 0;           // guarded by mu_: wakes the watchdog to look again
  bool closing_ = false;
  std::thread watchdog_;  // started by the first Begin
};

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_WRITE_FENCE_H_
