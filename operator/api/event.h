// SPDX-License-Identifier: Apache-2.0
// The events.k8s.io/v1 Event the operator posts about a Service, as a value type, and its
// encoder to API JSON. Events wait in a queue before they are posted (reconcile/events.h), so
// they are held as these few strings, not as a JSON tree, which takes several times the memory.
#ifndef AKROBATEO_OPERATOR_API_EVENT_H_
#define AKROBATEO_OPERATOR_API_EVENT_H_

#include <nlohmann/json.hpp>
#include <string>

namespace akrobateo::api {

struct Event {
  std::string ns;          // the Service's namespace, where the Event lives
  std::string name;        // unique: the Service's name and a suffix
  std::string event_time;  // MicroTime
  std::string reporting_instance;
  std::string action;  // "Reconcile" or "Delete"
  std::string reason;
  std::string type;  // "Normal" or "Warning"
  std::string note;
  // The Service it is about (in `ns`).
  std::string service_name;
  std::string service_uid;
  std::string service_resource_version;
  bool operator==(const Event&) const = default;
};

// The full events.k8s.io/v1 Event object; reportingController is the operator's.
nlohmann::json EncodeEvent(const Event& ev);

}  // namespace akrobateo::api

#endif  // AKROBATEO_OPERATOR_API_EVENT_H_
