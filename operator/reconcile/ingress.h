// SPDX-License-Identifier: Apache-2.0
// The Service's load-balancer ingress list as a pure function of its balancer pods, the nodes,
// (for externalTrafficPolicy Local) its EndpointSlices and the list it has now (docs/operator.md,
// "Reconcile", step 5): a short hold for a listed node whose balancer is restarting, being
// replaced by a DaemonSet update or (ipMode VIP) deleted, and an order in which the first address
// stays first
// (docs/design.md, "The order of the addresses").
#ifndef AKROBATEO_OPERATOR_RECONCILE_INGRESS_H_
#define AKROBATEO_OPERATOR_RECONCILE_INGRESS_H_

#include <chrono>
#include <string>
#include <vector>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

// A node already in the Service's status stays there while its balancer pod is not Ready for
// less than this: a balancer container that is killed and restarted by the kubelet keeps its
// table in the pod's network namespace, so the address keeps answering (docs/design.md, "Status
// through a balancer restart"). The same holds, counted from the delete, for a pod that a
// DaemonSet update replaces, and, while the Service's ipMode is VIP (kube-proxy answers on a
// listed node's address), for any other delete of a pod.
inline constexpr std::chrono::seconds kRestartHold{10};

struct IngressDecision {
  std::vector<std::string> ingress;
  // When a held node's hold runs out: the Service must be looked at again then, since no watch
  // event marks that moment. Zero when nothing is held.
  std::chrono::milliseconds recheck_after{0};
};

// `pods`: the pods of the Service's DaemonSet. `nodes`: at least the nodes those pods run on.
// `slices`: the Service's EndpointSlices (only read for externalTrafficPolicy Local). `now`:
// the wall clock, compared with the pods' Ready lastTransitionTime. `daemonset_generation`: the
// DaemonSet's metadata.generation (0: unknown); a pod being deleted whose template is older is
// being replaced by an update (held under either ipMode).
//
// Order, within each family: with externalTrafficPolicy Local the nodes with more ready
// endpoints first (a client that takes the first address reaches the most backends); then the
// address first in the Service's status now, if it is still chosen; then numeric order.
IngressDecision DesiredIngress(const api::Service& svc, const std::vector<api::Pod>& pods,
                               const std::vector<api::Node>& nodes,
                               const std::vector<api::EndpointSlice>& slices,
                               std::chrono::system_clock::time_point now,
                               int64_t daemonset_generation = 0);

// Families the Service asks for, in order (4 and/or 6).
std::vector<int> RequestedFamilies(const api::Service& svc);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_INGRESS_H_
