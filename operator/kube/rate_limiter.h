// SPDX-License-Identifier: Apache-2.0
// Client-side token bucket (--qps, --burst) shared by every request the operator makes, like
// client-go's: a burst of `burst` requests, then `qps` per second. Time is the injected Clock's
// (base/clock.h).
#ifndef AKROBATEO_OPERATOR_KUBE_RATE_LIMITER_H_
#define AKROBATEO_OPERATOR_KUBE_RATE_LIMITER_H_

#include <algorithm>
#include <chrono>
#include <mutex>

#include "operator/base/clock.h"

namespace akrobateo::kube {

class RateLimiter {
 public:
  RateLimiter(double qps, int burst, Clock* clock = Clock::Real())
      : clock_(clock),
        qps_(qps),
        burst_(std::max(1, burst)),
        tokens_(static_cast<double>(burst_)) {}

  // Takes one token and returns how long the caller must wait before using it (zero when
  // a token was available). Reserving ahead keeps waiting callers in order.
  Clock::duration Reserve() {
    std::lock_guard lock(mu_);
    if (qps_ <= 0) return Clock::duration::zero();
    const Clock::time_point now = clock_->Now();
    if (last_ == Clock::time_point{}) last_ = now;
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * qps_);
    tokens_ -= 1;
    if (tokens_ >= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(-tokens_ / qps_));
  }

 private:
  Clock* clock_;
  std::mutex mu_;
  double qps_;
  int burst_;
  double tokens_;
  Clock::time_point last_{};
};

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_RATE_LIMITER_H_
