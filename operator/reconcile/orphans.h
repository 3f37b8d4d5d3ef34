// SPDX-License-Identifier: Apache-2.0
// The orphan sweep: which managed DaemonSets no longer belong to a handled Service.
#ifndef AKROBATEO_OPERATOR_RECONCILE_ORPHANS_H_
#define AKROBATEO_OPERATOR_RECONCILE_ORPHANS_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

// `wanted`: Service UID -> the DaemonSet name it should have, for every handled, unblocked
// Service. Every other managed DaemonSet is an orphan.
std::vector<api::ObservedDaemonSet> SelectOrphans(
    const std::vector<api::ObservedDaemonSet>& daemonsets,
    const std::unordered_map<std::string, std::string>& wanted);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_ORPHANS_H_
