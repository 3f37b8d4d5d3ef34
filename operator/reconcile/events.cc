#include "operator/reconcile/events.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "operator/names.h"

namespace akrobateo::reconcile {

std::string MicroTimeNow() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

void EventRecorder::Emit(const api::Service& svc, const std::string& type,
                         const std::string& reason, const std::string& note) {
  if (type == "Warning") {
    spdlog::warn("event service={}/{} type={} reason={} note=\"{}\"", svc.ns, svc.name, type,
                 reason, note);
  } else {
    spdlog::info("event service={}/{} type={} reason={} note=\"{}\"", svc.ns, svc.name, type,
                 reason, note);
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
      {"note", note.size() > 1000 ? note.substr(0, 1000) : note},
      {"regarding",
       {{"apiVersion", "v1"},
        {"kind", "Service"},
        {"namespace", svc.ns},
        {"name", svc.name},
        {"uid", svc.uid},
        {"resourceVersion", svc.resource_version}}},
  };
  kube::Response r = client_->Request(
      "create", "POST", "/apis/events.k8s.io/v1/namespaces/" + svc.ns + "/events", ev.dump());
  if (!r.ok()) {
    spdlog::warn("event not recorded service={}/{} reason={} error=\"{}\"", svc.ns, svc.name,
                 reason, r.Describe());
  }
}

}  // namespace akrobateo::reconcile
