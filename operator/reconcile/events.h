// Events on a Service through events.k8s.io/v1 (verb: create). A failed Event is logged and
// otherwise ignored: Events are best effort and never block a reconcile.
#pragma once

#include <string>

#include "operator/api/types.h"
#include "operator/kube/client.h"

namespace akrobateo::reconcile {

class EventRecorder {
 public:
  EventRecorder(kube::Client* client, std::string instance)
      : client_(client), instance_(std::move(instance)) {}

  // `type` is "Normal" or "Warning". Also writes one log line.
  void Emit(const api::Service& svc, const std::string& type, const std::string& reason,
            const std::string& note);

 private:
  kube::Client* client_;
  std::string instance_;
};

// RFC 3339 with microseconds, UTC (metav1.MicroTime).
std::string MicroTimeNow();

}  // namespace akrobateo::reconcile
