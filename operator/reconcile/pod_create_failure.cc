// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/pod_create_failure.h"

#include <tuple>

namespace akrobateo::reconcile {

std::optional<std::string> PodCreateFailureWarning(
    const api::ObservedDaemonSet& ds, const std::vector<api::PodCreateFailure>& failures,
    std::chrono::system_clock::time_point now) {
  if (ds.current_scheduled >= ds.desired_scheduled) return std::nullopt;
  const api::PodCreateFailure* newest = nullptr;
  for (const api::PodCreateFailure& f : failures) {
    if (f.daemonset_uid != ds.uid || f.last_seen + kCreateFailureFreshness < now) continue;
    // Ties (one second apart at most in lastTimestamp) go to the name, not the cache's order.
    if (newest == nullptr ||
        std::tie(f.last_seen, f.name) > std::tie(newest->last_seen, newest->name)) {
      newest = &f;
    }
  }
  if (newest == nullptr) return std::nullopt;
  int64_t missing = ds.desired_scheduled - ds.current_scheduled;
  return "the DaemonSet controller cannot create the balancer pod" +
         std::string(missing == 1 ? "" : "s") + " for " + std::to_string(missing) + " of " +
         std::to_string(ds.desired_scheduled) + " node" + (ds.desired_scheduled == 1 ? "" : "s") +
         " (DaemonSet " + ds.ns + "/" + ds.name + "): " + newest->message;
}

}  // namespace akrobateo::reconcile
