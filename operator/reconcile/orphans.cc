// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/orphans.h"

namespace akrobateo::reconcile {

std::vector<api::ObservedDaemonSet> SelectOrphans(
    const std::vector<api::ObservedDaemonSet>& daemonsets,
    const std::unordered_map<std::string, std::string>& wanted) {
  std::vector<api::ObservedDaemonSet> out;
  for (const api::ObservedDaemonSet& ds : daemonsets) {
    auto it = wanted.find(ds.service_uid);
    if (ds.service_uid.empty() || it == wanted.end() || it->second != ds.name) out.push_back(ds);
  }
  return out;
}

}  // namespace akrobateo::reconcile
