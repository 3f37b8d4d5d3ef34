// SPDX-License-Identifier: Apache-2.0
#include "operator/api/event.h"

#include "operator/names.h"

namespace akrobateo::api {

nlohmann::json EncodeEvent(const Event& ev) {
  return {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"name", ev.name}, {"namespace", ev.ns}}},
      {"eventTime", ev.event_time},
      {"reportingController", std::string(names::kReportingController)},
      {"reportingInstance", ev.reporting_instance},
      {"action", ev.action},
      {"reason", ev.reason},
      {"type", ev.type},
      {"note", ev.note},
      {"regarding",
       {{"apiVersion", "v1"},
        {"kind", "Service"},
        {"namespace", ev.ns},
        {"name", ev.service_name},
        {"uid", ev.service_uid},
        {"resourceVersion", ev.service_resource_version}}},
  };
}

}  // namespace akrobateo::api
