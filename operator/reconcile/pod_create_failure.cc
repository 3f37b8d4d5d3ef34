// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/pod_create_failure.h"

#include <tuple>

namespace akrobateo::reconcile {
namespace {

// The DaemonSet controller names each pod it tries `<daemonset>-<random suffix>`, and the API
// quotes that name, so every retry's message differs: "<daemonset>-*" in its place keeps one
// refusal one note.
std::string WithoutPodSuffix(std::string message, const std::string& daemonset) {
  const std::string prefix = daemonset + "-";
  size_t at = 0;
  while ((at = message.find(prefix, at)) != std::string::npos) {
    size_t end = at + prefix.size();
    while (end < message.size() && ((message[end] >= 'a' && message[end] <= 'z') ||
                                    (message[end] >= '0' && message[end] <= '9'))) {
      ++end;
    }
    message.replace(at + prefix.size(), end - at - prefix.size(), "*");
    at += prefix.size() + 1;
  }
  return message;
}

}  // namespace

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
         " (DaemonSet " + ds.ns + "/" + ds.name +
         "): " + WithoutPodSuffix(newest->message, ds.name);
}

}  // namespace akrobateo::reconcile
