// SPDX-License-Identifier: Apache-2.0
#include "operator/metrics/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
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

// Seconds since the epoch need more digits than Num gives; to the 1/100 s of a clock tick.
std::string StartTime() {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", ProcessStartTimeSeconds());
  return buf;
}

}  // namespace

void Histogram::Observe(double v) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (v <= bounds_[i]) ++buckets_[i];
  }
  ++count_;
  sum_ += v;
}

void Histogram::Render(std::ostream& o, const std::string& name, const std::string& labels) const {
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < bounds_.size(); ++i) {
    o << name << "_bucket{" << labels << sep << "le=\"" << Num(bounds_[i]) << "\"} " << buckets_[i]
      << "\n";
  }
  o << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << count_ << "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  o << name << "_sum" << braces << " " << Num(sum_) << "\n"
    << name << "_count" << braces << " " << count_ << "\n";
}

void Metrics::WorkqueueAdded() {
  std::lock_guard lock(mu_);
  ++workqueue_adds_;
}

void Metrics::WorkqueueRetried() {
  std::lock_guard lock(mu_);
  ++workqueue_retries_;
}

void Metrics::WorkqueueQueued(double seconds) {
  std::lock_guard lock(mu_);
  workqueue_queue_duration_.Observe(seconds);
}

void Metrics::WorkqueueWorked(double seconds) {
  std::lock_guard lock(mu_);
  workqueue_work_duration_.Observe(seconds);
}

void Metrics::ApiRequestDone(const std::string& verb, double seconds) {
  std::lock_guard lock(mu_);
  api_request_duration_.try_emplace(verb, kApiBuckets).first->second.Observe(seconds);
}

ApiRequestTimer::ApiRequestTimer(Metrics* m, std::string verb, Clock* clock)
    : m_(m), verb_(std::move(verb)), clock_(clock), start_(clock->Now()) {}

ApiRequestTimer::~ApiRequestTimer() {
  if (m_ == nullptr) return;
  m_->ApiRequestDone(verb_, std::chrono::duration<double>(clock_->Now() - start_).count());
}

void Metrics::ReconcileDone(const std::string& result, double seconds) {
  std::lock_guard lock(mu_);
  ++reconcile_total_[result];
  reconcile_duration_.Observe(seconds);
}

void Metrics::WatchRestarted(const std::string& resource) {
  std::lock_guard lock(mu_);
  ++watch_restarts_[resource];
}

void Metrics::ApiRequest(const std::string& verb, const std::string& code) {
  std::lock_guard lock(mu_);
  ++api_requests_[{verb, code}];
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
  reconcile_duration_.Render(o, "akrobateo_reconcile_duration_seconds", "");
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
  o << "# HELP akrobateo_api_request_duration_seconds Seconds from sending a request to the API "
       "server to its whole response, by verb (watch streams not included).\n"
    << "# TYPE akrobateo_api_request_duration_seconds histogram\n";
  for (const auto& [verb, h] : api_request_duration_) {
    h.Render(o, "akrobateo_api_request_duration_seconds", "verb=\"" + verb + "\"");
  }
  o << "# HELP akrobateo_workqueue_depth Service keys waiting in the work queue.\n"
    << "# TYPE akrobateo_workqueue_depth gauge\n"
    << "akrobateo_workqueue_depth " << workqueue_depth_.load() << "\n";
  o << "# HELP akrobateo_workqueue_adds_total Service keys added to the work queue (a key "
       "already waiting is not added again).\n"
    << "# TYPE akrobateo_workqueue_adds_total counter\n"
    << "akrobateo_workqueue_adds_total " << workqueue_adds_ << "\n";
  o << "# HELP akrobateo_workqueue_retries_total Service keys queued again after a failed "
       "reconcile, with backoff.\n"
    << "# TYPE akrobateo_workqueue_retries_total counter\n"
    << "akrobateo_workqueue_retries_total " << workqueue_retries_ << "\n";
  o << "# HELP akrobateo_workqueue_queue_duration_seconds Seconds a key waits in the work queue "
       "before a worker takes it.\n"
    << "# TYPE akrobateo_workqueue_queue_duration_seconds histogram\n";
  workqueue_queue_duration_.Render(o, "akrobateo_workqueue_queue_duration_seconds", "");
  o << "# HELP akrobateo_workqueue_work_duration_seconds Seconds a worker takes for a key, from "
       "taking it to done.\n"
    << "# TYPE akrobateo_workqueue_work_duration_seconds histogram\n";
  workqueue_work_duration_.Render(o, "akrobateo_workqueue_work_duration_seconds", "");
  o << "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
    << "# TYPE process_start_time_seconds gauge\n"
    << "process_start_time_seconds " << StartTime() << "\n";
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

double ProcessStartTimeSeconds() {
  // Field 22 of /proc/self/stat: the start in clock ticks after boot; `btime` of /proc/stat:
  // the boot in seconds since the epoch. The command (field 2) may hold spaces: read after it.
  static const double start = [] {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (!std::getline(stat, line)) return 0.0;
    size_t close = line.rfind(')');
    if (close == std::string::npos) return 0.0;
    std::istringstream fields(line.substr(close + 2));
    std::string f;
    unsigned long long ticks = 0;
    for (int i = 3; i <= 22 && fields >> f; ++i) {
      if (i == 22) ticks = std::strtoull(f.c_str(), nullptr, 10);
    }
    std::ifstream proc_stat("/proc/stat");
    double btime = 0;
    while (std::getline(proc_stat, line)) {
      if (line.rfind("btime ", 0) == 0) btime = std::strtod(line.c_str() + 6, nullptr);
    }
    long hz = sysconf(_SC_CLK_TCK);
    if (btime == 0 || hz <= 0) return 0.0;
    return btime + static_cast<double>(ticks) / static_cast<double>(hz);
  }();
  return start;
}

}  // namespace akrobateo::metrics
