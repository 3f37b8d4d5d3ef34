// SPDX-License-Identifier: Apache-2.0
// The operator's Prometheus metrics: a small thread-safe registry with exactly the series
// SPEC names, rendered in the text exposition format.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace akrobateo::metrics {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

  void ReconcileDone(const std::string& result, double seconds);
  void WatchRestarted(const std::string& resource);
  void ApiRequest(const std::string& verb, const std::string& code);
  void SetManagedServices(int64_t n) { managed_services_.store(n); }
  void SetLeader(bool leader) { leader_.store(leader ? 1 : 0); }

  // The whole exposition, including process_resident_memory_bytes and
  // process_cpu_seconds_total read at call time.
  std::string Render() const;

  // Test access.
  uint64_t ReconcileCount(const std::string& result) const;
  uint64_t ApiRequestCount(const std::string& verb, const std::string& code) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> reconcile_total_;
  std::array<uint64_t, kBuckets.size()> duration_buckets_{};
  uint64_t duration_count_ = 0;
  double duration_sum_ = 0;
  std::map<std::string, uint64_t> watch_restarts_;
  std::map<std::pair<std::string, std::string>, uint64_t> api_requests_;
  std::atomic<int64_t> managed_services_{0};
  std::atomic<int> leader_{0};
};

// Resident set size of this process in bytes (from /proc/self/statm), or 0.
int64_t ResidentMemoryBytes();
// User + system CPU seconds of this process.
double CpuSeconds();

}  // namespace akrobateo::metrics
