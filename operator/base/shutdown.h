// SPDX-License-Identifier: Apache-2.0
// ShutdownLatch: set once (by the signal thread, or by the code that gives up), waited on by
// every loop that must stop with the process. Time is the injected Clock's (base/clock.h).
#ifndef AKROBATEO_OPERATOR_BASE_SHUTDOWN_H_
#define AKROBATEO_OPERATOR_BASE_SHUTDOWN_H_

#include <condition_variable>
#include <mutex>

#include "operator/base/clock.h"

namespace akrobateo {

class ShutdownLatch {
 public:
  explicit ShutdownLatch(Clock* clock = Clock::Real()) : clock_(clock) {}

  void Trigger() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
  }
  bool Done() {
    std::lock_guard lock(mu_);
    return done_;
  }
  // True when shut down, false when `d` passed first.
  bool WaitFor(Clock::duration d) {
    std::unique_lock lock(mu_);
    return clock_->WaitFor(cv_, lock, d, [this] { return done_; });
  }

 private:
  Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace akrobateo

#endif  // AKROBATEO_OPERATOR_BASE_SHUTDOWN_H_
