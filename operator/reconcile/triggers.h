// SPDX-License-Identifier: Apache-2.0
// Which cache changes can change what a reconcile of the Service does. The watch handlers ask
// these before they enqueue, so that the steps a balancer pod or a DaemonSet takes on its way
// to Ready (scheduled, bound, its controller's status counters) cost no reconcile when no
// decision reads them. Keep these in step with what Reconcile, DesiredIngress and
// UnschedulableWarning read.
#ifndef AKROBATEO_OPERATOR_RECONCILE_TRIGGERS_H_
#define AKROBATEO_OPERATOR_RECONCILE_TRIGGERS_H_

#include <chrono>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

// `old` or `now` is null for a create or a delete, which always matter (the pod count is part
// of the UnschedulableWarning text). An update matters when it changes whether the pod counts
// for the status (Ready, and on which node) or what the warning about Pending pods says.
bool PodChangeMatters(const api::Pod* old, const api::Pod* now);

// How long after a pod change (one that matters) its Service is reconciled. A pod that turns
// Ready, on a node, for a Service whose status lists no address yet can give it its first
// address: at once (0), since nothing is published that a burst could rewrite. Every other
// change waits `coalesce`, so that a burst (the other pods turning Ready) costs one reconcile and
// one status write. `service` is the Service as cached (null when it is not there).
std::chrono::milliseconds PodChangeDelay(const api::Pod* old, const api::Pod* now,
                                         const api::Service* service,
                                         std::chrono::milliseconds coalesce);

// An update matters unless it only moves the resourceVersion or counters that no reconcile
// reads (numberReady): the spec hash, the generation and desiredNumberScheduled are read.
bool DaemonSetChangeMatters(const api::ObservedDaemonSet* old, const api::ObservedDaemonSet* now);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_TRIGGERS_H_
