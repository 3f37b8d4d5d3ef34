// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/triggers.h"

#include <tuple>

namespace akrobateo::reconcile {

bool PodChangeMatters(const api::Pod* old, const api::Pod* now) {
  if (old == nullptr || now == nullptr) return true;
  // The node is read only for a Ready pod (status) and as the target node of a Pending one.
  auto read = [](const api::Pod& p) {
    return std::tie(p.ready, p.ready ? p.node_name : p.target_node, p.not_ready_since,
                    p.deleting_since, p.template_generation, p.unschedulable, p.scheduler_message,
                    p.service_uid);
  };
  return read(*old) != read(*now);
}

std::chrono::milliseconds PodChangeDelay(const api::Pod* old, const api::Pod* now,
                                         const api::Service* service,
                                         std::chrono::milliseconds coalesce) {
  const bool turned_ready = now != nullptr && now->ready && !now->node_name.empty() &&
                            now->deleting_since == std::chrono::system_clock::time_point{} &&
                            (old == nullptr || !old->ready);
  if (!turned_ready || service == nullptr) return coalesce;
  const bool first = service->ingress.empty() && now->service_uid == service->uid;
  return first ? std::chrono::milliseconds(0) : coalesce;
}

bool DaemonSetChangeMatters(const api::ObservedDaemonSet* old, const api::ObservedDaemonSet* now) {
  if (old == nullptr || now == nullptr) return true;
  api::ObservedDaemonSet a = *old;
  api::ObservedDaemonSet b = *now;
  a.resource_version.clear();
  b.resource_version.clear();
  a.number_ready = b.number_ready = 0;
  return !(a == b);
}

}  // namespace akrobateo::reconcile
