// SPDX-License-Identifier: Apache-2.0
// FakeClock: a Clock that stands still until the test steps it. Step() wakes every wait whose
// deadline it reaches; BlockUntilWaiters(n) lets a test wait until n threads are blocked on the
// clock (so that what it steps next is seen by them), without sleeping.
//
// How a wait is woken without losing the wake-up: a waiter registers itself while it holds its
// own mutex, and Step() takes that mutex before notifying, which it can only get once the waiter
// is inside cv.wait(). A waiter unregisters only when no Step() is walking the registrations, so
// that a Step() never touches a waiter that has returned.
#ifndef AKROBATEO_TEST_OPERATOR_FAKE_CLOCK_H_
#define AKROBATEO_TEST_OPERATOR_FAKE_CLOCK_H_

#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <vector>

#include "operator/base/clock.h"

namespace akrobateo::testing {

class FakeClock : public Clock {
 public:
  // Starts at an arbitrary point well after the epoch (time_point{} means "unset" to some code).
  FakeClock() : now_(std::chrono::hours(1000)) {}

  time_point Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 time_point deadline, const std::function<bool()>& done) override {
    while (!done()) {
      std::list<Waiter>::iterator me;
      {
        std::lock_guard g(mu_);
        if (now_ >= deadline) return false;
        me = waiters_.insert(waiters_.end(), Waiter{&cv, lock.mutex()});
      }
      waiters_cv_.notify_all();
      cv.wait(lock);
      lock.unlock();
      {
        std::unique_lock g(mu_);
        waiters_cv_.wait(g, [this] { return stepping_ == 0; });
        waiters_.erase(me);
      }
      lock.lock();
    }
    return true;
  }

  // Moves the clock on by `d` and wakes every waiter, which looks at its deadline again.
  void Step(duration d) {
    std::vector<Waiter> snapshot;
    {
      std::lock_guard g(mu_);
      now_ += d;
      ++stepping_;
      for (Waiter& w : waiters_) {
        w.woken = true;
        snapshot.push_back(w);
      }
    }
    for (const Waiter& w : snapshot) {
      { std::lock_guard held(*w.mu); }  // the waiter is inside cv.wait() now
      w.cv->notify_all();
    }
    {
      std::lock_guard g(mu_);
      --stepping_;
    }
    waiters_cv_.notify_all();
  }
  // Steps to `t` (nothing when the clock is there already).
  void StepTo(time_point t) {
    time_point now = Now();
    if (t > now) Step(t - now);
  }

  // Blocks until at least `n` threads wait on the clock (not counting those a Step() woke);
  // false when that takes a whole minute of real time (the test is broken, not slow: it fails
  // instead of hanging).
  bool BlockUntilWaiters(size_t n) {
    std::unique_lock g(mu_);
    return waiters_cv_.wait_for(g, std::chrono::minutes(1), [&] { return WaitingLocked() >= n; });
  }
  size_t Waiters() const {
    std::lock_guard g(mu_);
    return WaitingLocked();
  }

 private:
  struct Waiter {
    std::condition_variable* cv;
    std::mutex* mu;
    bool woken = false;  // by a Step(), and not yet gone
  };
  size_t WaitingLocked() const {
    size_t n = 0;
    for (const Waiter& w : waiters_) n += w.woken ? 0 : 1;
    return n;
  }
  mutable std::mutex mu_;
  std::condition_variable waiters_cv_;
  time_point now_;
  std::list<Waiter> waiters_;
  int stepping_ = 0;
};

}  // namespace akrobateo::testing

#endif  // AKROBATEO_TEST_OPERATOR_FAKE_CLOCK_H_
