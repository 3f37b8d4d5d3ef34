// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/events.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "operator/api/decode.h"
#include "operator/base/log.h"
#include "operator/base/micro_time.h"
#include "operator/cache/caches.h"

namespace akrobateo::reconcile {

void EventRecorder::Emit(const api::Service& svc, const std::string& type,
                         const std::string& reason, const std::string& note) {
  Log(type == "Warning" ? LogLevel::kWarn : LogLevel::kInfo, "event",
      {{"service", cache::ServiceKey(svc)},
       {"type", type},
       {"reason", reason},
       Quoted("note", note)});
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  api::Event ev;
  ev.ns = svc.ns;
  ev.name = svc.name + suffix;
  ev.event_time = MicroTimeNow();
  ev.reporting_instance = instance_;
  ev.action = reason == "DeletedDaemonSet" ? "Delete" : "Reconcile";
  ev.reason = reason;
  ev.type = type;
  ev.note = api::Capped(note, 1000);  // the API's limit; notes quote annotation values
  ev.service_name = svc.name;
  ev.service_uid = svc.uid;
  ev.service_resource_version = svc.resource_version;
  std::lock_guard lock(mu_);
  if (stop_ || pending_.size() >= kMaxPending) {
    LogWarn(
        "event dropped",
        {{"service", cache::ServiceKey(svc)}, {"reason", reason}, {"pending", pending_.size()}});
    return;
  }
  pending_.push_back(std::move(ev));
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
    api::Event event = std::move(pending_.front());
    pending_.pop_front();
    posting_ = true;
    lock.unlock();
    Status s = client_->Events(event.ns).Create(event);
    if (!s) {
      LogWarn("event not recorded", {{"namespace", event.ns}, Quoted("error", s.error())});
    }
    lock.lock();
    posting_ = false;
    if (pending_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace akrobateo::reconcile
