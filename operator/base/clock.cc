// SPDX-License-Identifier: Apache-2.0
#include "operator/base/clock.h"

namespace akrobateo {
namespace {

class RealClock : public Clock {
 public:
  time_point Now() const override { return std::chrono::steady_clock::now(); }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 time_point deadline, const std::function<bool()>& done) override {
    if (deadline == time_point::max()) {
      cv.wait(lock, done);
      return true;
    }
    return cv.wait_until(lock, deadline, done);
  }
};

}  // namespace

void Clock::SleepUntil(time_point t) {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  WaitUntil(cv, lock, t, [] { return false; });
}

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

}  // namespace akrobateo
