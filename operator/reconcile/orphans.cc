// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/orphans.h"

namespace akrobateo::reconcile {

std::vector<api::DaemonSetInfo> SelectOrphans(
    const std::vector<api::DaemonSetInfo>& daemonsets,
    const std::unordered_map<std::string, std::string>& wanted) {
  std::vector<api::DaemonSetInfo> out;
  for (const api::DaemonSetInfo& ds : daemonsets) {
    auto it = wanted.find(ds.service_uid);
    if (ds.service_uid.empty() || it == wanted.end() || it->second != ds.name) out.push_back(ds);
  }
  return out;
}

}  // namespace akrobateo::reconcile
