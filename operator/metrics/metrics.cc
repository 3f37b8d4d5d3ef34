// SPDX-License-Identifier: Apache-2.0
#include "operator/metrics/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "akrobateo/version.h"

namespace akrobateo::metrics {
namespace {

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void Metrics::ReconcileDone(const std::string& result, double seconds) {
  std::lock_guard lock(mu_);
  ++reconcile_total_[result];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++duration_buckets_[i];
  }
  ++duration_count_;
  duration_sum_ += seconds;
}

void Metrics::WatchRestarted(const std::string& resource) {
  std::lock_guard lock(mu_);
  ++watch_restarts_[resource];
}

void Metrics::ApiRequest(const std::string& verb, const std::string& code) {
  std::lock_guard lock(mu_);
  ++api_requests_[{verb, code}];
}

uint64_t Metrics::ReconcileCount(const std::string& result) const {
  std::lock_guard lock(mu_);
  auto it = reconcile_total_.find(result);
  return it == reconcile_total_.end() ? 0 : it->second;
}

uint64_t Metrics::ApiRequestCount(const std::string& verb, const std::string& code) const {
  std::lock_guard lock(mu_);
  auto it = api_requests_.find({verb, code});
  return it == api_requests_.end() ? 0 : it->second;
}

std::string Metrics::Render() const {
  std::ostringstream o;
  std::lock_guard lock(mu_);
  o << "# HELP akrobateo_reconcile_total Reconciles of a Service key, by result.\n"
    << "# TYPE akrobateo_reconcile_total counter\n";
  for (const char* r : {"success", "error"}) {
    auto it = reconcile_total_.find(r);
    o << "akrobateo_reconcile_total{result=\"" << r << "\"} "
      << (it == reconcile_total_.end() ? 0 : it->second) << "\n";
  }
  for (const auto& [r, n] : reconcile_total_) {
    if (r != "success" && r != "error")
      o << "akrobateo_reconcile_total{result=\"" << r << "\"} " << n << "\n";
  }
  o << "# HELP akrobateo_reconcile_duration_seconds Wall time of one reconcile.\n"
    << "# TYPE akrobateo_reconcile_duration_seconds histogram\n";
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    o << "akrobateo_reconcile_duration_seconds_bucket{le=\"" << Num(kBuckets[i]) << "\"} "
      << duration_buckets_[i] << "\n";
  }
  o << "akrobateo_reconcile_duration_seconds_bucket{le=\"+Inf\"} " << duration_count_ << "\n"
    << "akrobateo_reconcile_duration_seconds_sum " << Num(duration_sum_) << "\n"
    << "akrobateo_reconcile_duration_seconds_count " << duration_count_ << "\n";
  o << "# HELP akrobateo_managed_services Handled Services with a balancer DaemonSet wanted.\n"
    << "# TYPE akrobateo_managed_services gauge\n"
    << "akrobateo_managed_services " << managed_services_.load() << "\n";
  o << "# HELP akrobateo_watch_restarts_total Watch streams started again after one ended.\n"
    << "# TYPE akrobateo_watch_restarts_total counter\n";
  for (const auto& [r, n] : watch_restarts_) {
    o << "akrobateo_watch_restarts_total{resource=\"" << r << "\"} " << n << "\n";
  }
  o << "# HELP akrobateo_api_requests_total Requests to the API server by verb and HTTP code.\n"
    << "# TYPE akrobateo_api_requests_total counter\n";
  for (const auto& [k, n] : api_requests_) {
    o << "akrobateo_api_requests_total{verb=\"" << k.first << "\",code=\"" << k.second << "\"} "
      << n << "\n";
  }
  o << "# HELP akrobateo_leader 1 while this instance holds the leader lease (or runs alone).\n"
    << "# TYPE akrobateo_leader gauge\n"
    << "akrobateo_leader " << leader_.load() << "\n";
  o << "# HELP akrobateo_build_info The operator's version and git revision; always 1.\n"
    << "# TYPE akrobateo_build_info gauge\n"
    << "akrobateo_build_info{version=\"" << version::kVersion << "\",revision=\""
    << version::kRevision << "\"} 1\n";
  o << "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
    << "# TYPE process_resident_memory_bytes gauge\n"
    << "process_resident_memory_bytes " << ResidentMemoryBytes() << "\n";
  o << "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
    << "# TYPE process_cpu_seconds_total counter\n"
    << "process_cpu_seconds_total " << Num(CpuSeconds()) << "\n";
  return o.str();
}

int64_t ResidentMemoryBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * sysconf(_SC_PAGESIZE);
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

}  // namespace akrobateo::metrics
