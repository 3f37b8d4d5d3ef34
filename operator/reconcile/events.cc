// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/events.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "operator/api/decode.h"
#include "operator/base/log.h"
#include "operator/base/micro_time.h"
#include "operator/names.h"

namespace akrobateo::reconcile {

void EventRecorder::Emit(const api::Service& svc, const std::string& type,
                         const std::string& reason, const std::string& note) {
  if (type == "Warning") {
    spdlog::warn("event service={}/{} type={} reason={} note={}", svc.ns, svc.name, type, reason,
                 Quote(note));
  } else {
    spdlog::info("event service={}/{} type={} reason={} note={}", svc.ns, svc.name, type, reason,
                 Quote(note));
  }
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  nlohmann::json ev = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"name", svc.name + suffix}, {"namespace", svc.ns}}},
      {"eventTime", MicroTimeNow()},
      {"reportingController", std::string(names::kReportingController)},
      {"reportingInstance", instance_},
      {"action", reason == "DeletedDaemonSet" ? "Delete" : "Reconcile"},
      {"reason", reason},
      {"type", type},
      {"note", api::Capped(note, 1000)},  // the API's limit; notes quote annotation values
      {"regarding",
       {{"apiVersion", "v1"},
        {"kind", "Service"},
        {"namespace", svc.ns},
        {"name", svc.name},
        {"uid", svc.uid},
        {"resourceVersion", svc.resource_version}}},
  };
  std::lock_guard lock(mu_);
  if (stop_ || pending_.size() >= kMaxPending) {
    spdlog::warn("event dropped service={}/{} reason={} pending={}", svc.ns, svc.name, reason,
                 pending_.size());
    return;
  }
  pending_.emplace_back(svc.ns, std::move(ev));
  cv_.notify_one();
}

EventRecorder::EventRecorder(kube::TypedClient* client, std::string instance)
    : client_(client), instance_(std::move(instance)), thread_([this] { Run(); }) {}

EventRecorder::~EventRecorder() {
  Stop();
}

void EventRecorder::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventRecorder::Flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return pending_.empty() && !posting_; });
}

void EventRecorder::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopped and drained
    auto [ns, event] = std::move(pending_.front());
    pending_.pop_front();
    posting_ = true;
    lock.unlock();
    Status s = client_->Events(ns).Create(event);
    if (!s) spdlog::warn("event not recorded namespace={} error={}", ns, Quote(s.error()));
    lock.lock();
    posting_ = false;
    if (pending_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace akrobateo::reconcile
