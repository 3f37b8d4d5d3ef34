// SPDX-License-Identifier: Apache-2.0
// Which cache changes can change what a reconcile of the Service does. The watch handlers ask
// these before they enqueue, so that the steps a balancer pod or a DaemonSet takes on its way
// to Ready (scheduled, bound, its controller's status counters) cost no reconcile when no
// decision reads them. Keep these in step with what Reconcile, DesiredIngress and
// UnschedulableWarning read.
#ifndef AKROBATEO_OPERATOR_RECONCILE_TRIGGERS_H_
#define AKROBATEO_OPERATOR_RECONCILE_TRIGGERS_H_

#include "operator/api/types.h"

namespace akrobateo::reconcile {

// `old` or `now` is null for a create or a delete, which always matter (the pod count is part
// of the UnschedulableWarning text). An update matters when it changes whether the pod counts
// for the status (Ready, and on which node) or what the warning about Pending pods says.
bool PodChangeMatters(const api::Pod* old, const api::Pod* now);

// An update matters unless it only moves the resourceVersion or counters that no reconcile
// reads (numberReady): the spec hash, the generation and desiredNumberScheduled are read.
bool DaemonSetChangeMatters(const api::ObservedDaemonSet* old, const api::ObservedDaemonSet* now);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_TRIGGERS_H_
