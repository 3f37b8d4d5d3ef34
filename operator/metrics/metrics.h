// SPDX-License-Identifier: Apache-2.0
// The operator's Prometheus metrics: a small thread-safe registry with exactly the series
// product contract names (docs/operator.md, "Observability"), rendered in the text exposition
// format.
#ifndef AKROBATEO_OPERATOR_METRICS_METRICS_H_
#define AKROBATEO_OPERATOR_METRICS_METRICS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "operator/base/clock.h"

namespace akrobateo::metrics {

// A Prometheus histogram: cumulative buckets with upper bounds `le`, sum and count. Not
// locked: its owner's mutex guards it.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), buckets_(bounds_.size()) {}
  void Observe(double v);
  // The _bucket, _sum and _count samples of `name`; `labels` like `verb="get"` or empty.
  void Render(std::ostream& o, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  static inline const std::vector<double> kReconcileBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5};
  static inline const std::vector<double> kQueueBuckets = {
      0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};
  static inline const std::vector<double> kApiBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  void ReconcileDone(const std::string& result, double seconds);
  void WatchRestarted(const std::string& resource);
  void ApiRequest(const std::string& verb, const std::string& code);
  void SetManagedServices(int64_t n) { managed_services_.store(n); }
  void SetLeader(bool leader) { leader_.store(leader ? 1 : 0); }

  // The whole exposition, including process_resident_memory_bytes and
  // process_cpu_seconds_total read at call time.
  std::string Render() const;

  // Test access.
  uint64_t ApiRequestCount(const std::string& verb, const std::string& code) const;

  // The work queue's, named as client-go's workqueue metrics: keys added (each time a key
  // starts waiting), re-added after a failure, waiting now; seconds from added to handed to a
  // worker, and from handed out to Done.
  void WorkqueueAdded();
  void WorkqueueRetried();
  void SetWorkqueueDepth(int64_t n) { workqueue_depth_.store(n); }
  void WorkqueueQueued(double seconds);
  void WorkqueueWorked(double seconds);
  // Seconds from sending a request to the API server to its whole response (not watches).
  void ApiRequestDone(const std::string& verb, double seconds);

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> reconcile_total_;
  Histogram reconcile_duration_{kReconcileBuckets};
  std::map<std::string, uint64_t> watch_restarts_;
  std::map<std::pair<std::string, std::string>, uint64_t> api_requests_;
  std::map<std::string, Histogram> api_request_duration_;
  uint64_t workqueue_adds_ = 0;
  uint64_t workqueue_retries_ = 0;
  std::atomic<int64_t> workqueue_depth_{0};
  Histogram workqueue_queue_duration_{kQueueBuckets};
  Histogram workqueue_work_duration_{kQueueBuckets};
  std::atomic<int64_t> managed_services_{0};
  std::atomic<int> leader_{0};
};

// Resident set size of this process in bytes (from /proc/self/statm), or 0.
int64_t ResidentMemoryBytes();
// User + system CPU seconds of this process.
double CpuSeconds();
// When this process started, in seconds since the Unix epoch (from /proc), or 0.
double ProcessStartTimeSeconds();

// Times one API request: from construction to destruction, into `m` (may be null) by `verb`.
class ApiRequestTimer {
 public:
  ApiRequestTimer(Metrics* m, std::string verb, Clock* clock = Clock::Real());
  ~ApiRequestTimer();
  ApiRequestTimer(const ApiRequestTimer&) = delete;
  ApiRequestTimer& operator=(const ApiRequestTimer&) = delete;

 private:
  Metrics* m_;
  std::string verb_;
  Clock* clock_;
  Clock::time_point start_;
};

}  // namespace akrobateo::metrics

#endif  // AKROBATEO_OPERATOR_METRICS_METRICS_H_
