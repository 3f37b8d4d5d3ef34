// SPDX-License-Identifier: Apache-2.0
// Why balancer pods of a Service stay Pending: the scheduler's own reason, worded for a
// Warning `UnavailableLoadBalancer` on the Service (e.g. a hostPort already held on a node by
// something that is not an akrobateo Service).
#ifndef AKROBATEO_OPERATOR_RECONCILE_UNSCHEDULABLE_H_
#define AKROBATEO_OPERATOR_RECONCILE_UNSCHEDULABLE_H_

#include <optional>
#include <string>
#include <vector>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

// `pods`: the pods of the Service's DaemonSet. Nothing when no pod is Unschedulable. Otherwise
// one note that says whether any balancer pod is Ready, how many pods are Pending, on which
// nodes, and quotes one scheduler message. Deterministic, so that the caller can emit it once
// per change.
std::optional<std::string> UnschedulableWarning(const std::vector<api::Pod>& pods);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_UNSCHEDULABLE_H_
