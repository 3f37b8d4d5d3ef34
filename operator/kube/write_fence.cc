// SPDX-License-Identifier: Apache-2.0
#include "operator/kube/write_fence.h"

#include <algorithm>
#include <vector>

namespace akrobateo::kube {

WriteFence::~WriteFence() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    ++changes_;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void WriteFence::Set(Clock::time_point until) {
  {
    std::lock_guard lock(mu_);
    fence_.store(until.time_since_epoch().count());
    ++changes_;
  }
  cv_.notify_all();
}

WriteFence::Ticket WriteFence::Begin(std::function<void()> abort, Clock::time_point deadline,
                                     bool fenced) {
  Ticket t;
  {
    std::lock_guard lock(mu_);
    t = in_flight_.insert(in_flight_.end(), InFlight{std::move(abort), deadline, fenced});
    ++changes_;
    if (!watchdog_.joinable()) watchdog_ = std::thread([this] { Watchdog(); });
  }
  cv_.notify_all();
  return t;
}

bool WriteFence::End(Ticket t) {
  std::lock_guard lock(mu_);
  bool aborted = t->aborted;
  in_flight_.erase(t);
  return aborted;
}

void WriteFence::Watchdog() {
  std::unique_lock lock(mu_);
  while (!closing_) {
    const Clock::time_point now = clock_->Now();
    Clock::time_point next = Clock::time_point::max();
    std::vector<std::function<void()>> expired;
    for (InFlight& f : in_flight_) {
      if (f.aborted) continue;
      Clock::time_point until = Until(f.deadline, f.fenced);
      if (until <= now) {
        f.aborted = true;
        expired.push_back(f.abort);
      } else {
        next = std::min(next, until);
      }
    }
    if (!expired.empty()) {
      // An abort may wait for a connect in progress (itself bounded by the deadline): not under
      // mu_, so that requests can end meanwhile.
      lock.unlock();
      for (auto& abort : expired) abort();
      lock.lock();
      continue;
    }
    const uint64_t seen = changes_;
    clock_->WaitUntil(cv_, lock, next, [&] { return changes_ != seen; });
  }
}

}  // namespace akrobateo::kube
