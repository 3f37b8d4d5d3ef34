// SPDX-License-Identifier: Apache-2.0
// Capped exponential backoff with equal jitter (half the delay fixed, half random), for watch
// re-establishment and retries. It only computes delays; the caller waits them on its clock.
#ifndef AKROBATEO_OPERATOR_KUBE_BACKOFF_H_
#define AKROBATEO_OPERATOR_KUBE_BACKOFF_H_

#include <algorithm>
#include <chrono>
#include <random>

namespace akrobateo::kube {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap)
      : base_(base), cap_(cap), rng_(std::random_device{}()) {}

  // The next delay: uniform in [d/2, d] where d doubles from `base` up to `cap`.
  std::chrono::milliseconds Next() {
    auto d = std::min(cap_, base_ * (int64_t{1} << std::min(attempt_, 20)));
    ++attempt_;
    std::uniform_int_distribution<int64_t> dist(d.count() / 2, d.count());
    return std::chrono::milliseconds(dist(rng_));
  }
  void Reset() { attempt_ = 0; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_BACKOFF_H_
