// SPDX-License-Identifier: Apache-2.0
// Why balancer pods of a Service do not exist at all: the DaemonSet controller could not create
// them (a ResourceQuota or LimitRange, the operator namespace's Pod Security, an admission
// webhook), and said why only in an Event on the DaemonSet, which the tenant cannot read. The
// API's message, worded for a Warning `FailedCreatePod` on the Service.
#ifndef AKROBATEO_OPERATOR_RECONCILE_POD_CREATE_FAILURE_H_
#define AKROBATEO_OPERATOR_RECONCILE_POD_CREATE_FAILURE_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

// An Event older than this no longer explains missing pods: the DaemonSet controller retries a
// failed create at least every 1000 s (its queue's longest backoff) and each retry refreshes the
// Event's lastTimestamp, so a quiet Event means the creates went through or stopped failing.
inline constexpr std::chrono::minutes kCreateFailureFreshness{20};

// Nothing while `ds` runs a pod on every node it should (currentNumberScheduled is
// desiredNumberScheduled), or no Event about it is fresh at `now`. Otherwise one note naming
// how many nodes lack a pod and quoting the newest Event's message, with the generated pod name
// as "<daemonset>-*" (each retry names another pod). Deterministic for the same refusal, so that
// the caller can emit it once per change.
std::optional<std::string> PodCreateFailureWarning(
    const api::ObservedDaemonSet& ds, const std::vector<api::PodCreateFailure>& failures,
    std::chrono::system_clock::time_point now);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_POD_CREATE_FAILURE_H_
