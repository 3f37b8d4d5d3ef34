// SPDX-License-Identifier: Apache-2.0
// Plan: what one reconcile of a Service decides, as a pure function of what the caches hold
// for it (no I/O, no clock, no state). The executor (executor.h) carries the plan out. Kept
// apart so that every decision can be tested on values, and the writes on a fake client.
#ifndef AKROBATEO_OPERATOR_RECONCILE_PLAN_H_
#define AKROBATEO_OPERATOR_RECONCILE_PLAN_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/api/daemonset.h"
#include "operator/api/types.h"
#include "operator/reconcile/conflict.h"
#include "operator/reconcile/desired.h"
#include "operator/reconcile/handled.h"
#include "operator/reconcile/port_policy.h"

namespace akrobateo::reconcile {

// What a reconcile of one Service reads.
struct PlanInput {
  std::string key;                                 // "namespace/name"
  std::optional<api::Service> service;             // absent: deleted
  std::vector<api::ObservedDaemonSet> daemonsets;  // labelled with this namespace/name (any UID)
  // Read only for a handled Service: its balancer pods, the nodes they run on, and (for
  // externalTrafficPolicy Local) its EndpointSlices.
  std::vector<api::Pod> pods;
  std::vector<api::Node> nodes;
  std::vector<api::EndpointSlice> slices;
  // The DaemonSet controller's FailedCreate Events about those DaemonSets.
  std::vector<api::PodCreateFailure> create_failures;
  // Facts derived from every Service and node.
  std::optional<PortConflict> blocked;  // the port this Service lost to an older one
  // Which of this Service's port numbers are some Service's nodePort, and whose.
  NodePortOwners node_port_owners;
  bool any_node_enable_lb = false;  // some node carries akrobateo.dev/enablelb=true
  // The wall clock when the caches were read: Plan reads no clock itself.
  std::chrono::system_clock::time_point now;
};

// What the cluster admin decides for every Service (operator flags; docs/security.md).
struct AdminPolicy {
  PortRanges reserved_ports;  // --reserved-ports
  // --trusted-namespaces: whose Services may set the tolerations and priority-class
  // annotations ("*": every namespace). Elsewhere the annotations are ignored, with a Warning.
  std::vector<std::string> trusted_namespaces;
  bool Trusts(const std::string& ns) const;
};

struct PlanOptions {
  ClassOptions classes;
  DaemonSetOptions daemonsets;
  AdminPolicy policy;
  // --cleanup-finalizer: add names::kCleanupFinalizer to handled Services (it is removed
  // whenever it is there and the balancer is gone, whatever this says; docs/operator.md).
  bool cleanup_finalizer = false;
};

// Something the user hears about on the Service. Warnings are deduplicated per Service and
// slot: a Warning is emitted only when its note differs from the last one in its slot, and a
// ClearWarning lets the next one through again.
struct Notice {
  enum class Kind {
    kEvent,          // always emitted (type Normal or Warning)
    kWarning,        // a Warning, once per note and slot
    kClearWarning,   // forget the slot's last note
    kForgetService,  // forget every slot of the Service (it is gone)
  };
  Kind kind = Kind::kEvent;
  std::string type;    // "Normal" or "Warning" (kEvent)
  std::string reason;  // the Event's reason
  std::string note;
  std::string slot;  // dedup slot (kWarning, kClearWarning); the reason when empty
  bool operator==(const Notice&) const = default;

  static Notice Event(std::string type, std::string reason, std::string note);
  static Notice Warning(std::string reason, std::string note, std::string slot = "");
  static Notice ClearWarning(std::string slot);
  static Notice ForgetService();
};

struct DaemonSetDeletion {
  std::string ns;
  std::string name;
  std::string why;                 // for the log and the Event
  std::vector<Notice> on_deleted;  // when the delete succeeded (not when it was gone already)
};

struct DaemonSetApply {
  api::DaemonSet desired;
  std::string hash;  // api::SpecHash(desired)
  // The cached resourceVersion of the existing DaemonSet to update; empty: create it.
  std::string resource_version;
};

struct StatusWrite {
  std::vector<std::string> ingress;     // empty clears it
  std::vector<api::IngressPort> ports;  // on each entry; empty when every port is served
  // "Proxy" when a port is refused: kube-proxy then leaves the node addresses to the balancer's
  // hostPorts, which hold only the served ports, instead of taking every port of the Service
  // on them (docs/security.md). "" (VIP) otherwise.
  std::string ip_mode;
  std::vector<Notice> on_written;
};

// The steps, in the order the executor takes them (a finalizer to add comes first, one to remove
// right after the deletions). A failed write ends the reconcile, except that a failed status
// write still lets `after` through.
struct ReconcilePlan {
  std::string key;
  std::optional<api::Service> service;  // the Service the writes and Events are about
  std::vector<Notice> before;           // first, whatever the writes do
  // The cleanup finalizer (names::kCleanupFinalizer): added before any DaemonSet write, removed
  // once the DaemonSets are gone. `finalizers` is the Service's whole new list.
  enum class FinalizerStep { kNone, kAdd, kRemove };
  FinalizerStep finalizer = FinalizerStep::kNone;
  std::vector<std::string> finalizers;
  // Drop the ingress before the DaemonSets go (a Service no longer handled: the DaemonSet is
  // the evidence that the status is ours). A Service that is gone already counts as done.
  bool clear_status = false;
  std::vector<DaemonSetDeletion> deletions;
  std::optional<DaemonSetApply> apply;  // nothing: no DaemonSet wanted, or it is equal
  std::optional<StatusWrite> status;    // nothing: the status is as wanted
  std::vector<Notice> after;            // once the DaemonSet writes have succeeded
  // Reconcile again after this long, a moment no watch event marks (zero: no need).
  std::chrono::milliseconds recheck_after{0};
};

ReconcilePlan Plan(const PlanInput& in, const PlanOptions& opts);

// "a,b" for an address list, "<none>" for an empty one (logs and Event notes).
std::string JoinAddresses(const std::vector<std::string>& v);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_PLAN_H_
