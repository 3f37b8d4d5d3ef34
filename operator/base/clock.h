// SPDX-License-Identifier: Apache-2.0
// Clock: the one source of time for everything that waits or measures (the work queue, the rate
// limiter, the write fence, leader election, the shutdown latch). Clock::Real() is the steady
// clock; tests give the same code a FakeClock (test/operator/fake_clock.h) that they step, so
// that no test sleeps for time to pass or depends on how fast the machine is.
//
// Waiting is on the caller's own condition variable and mutex, so that a wait ends both when
// its condition turns true (the caller notifies as usual) and when the clock reaches a point:
//
//   std::unique_lock lock(mu_);
//   clock_->WaitUntil(cv_, lock, deadline, [&] { return stop_; });
#ifndef AKROBATEO_OPERATOR_BASE_CLOCK_H_
#define AKROBATEO_OPERATOR_BASE_CLOCK_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace akrobateo {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;

  virtual ~Clock() = default;

  virtual time_point Now() const = 0;
  // Blocks, `lock` (on `cv`'s mutex) held on entry and on return, until `done()` is true or
  // the clock reaches `deadline` (time_point::max(): never); returns done(). `done` is called
  // with the lock held; whoever makes it true notifies `cv`.
  virtual bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                         time_point deadline, const std::function<bool()>& done) = 0;

  // Now() + d, saturated at time_point::max().
  time_point After(duration d) const {
    time_point now = Now();
    if (d >= time_point::max() - now) return time_point::max();
    return now + d;
  }
  bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, duration d,
               const std::function<bool()>& done) {
    return WaitUntil(cv, lock, After(d), done);
  }
  // Blocks until the clock reaches `t`.
  void SleepUntil(time_point t);

  // The process's steady clock (never destroyed).
  static Clock* Real();
};

}  // namespace akrobateo

#endif  // AKROBATEO_OPERATOR_BASE_CLOCK_H_
