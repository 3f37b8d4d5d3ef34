// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/plan.h"

#include <algorithm>
#include <utility>

#include "operator/names.h"
#include "operator/reconcile/ingress.h"
#include "operator/reconcile/pod_create_failure.h"
#include "operator/reconcile/unschedulable.h"

namespace akrobateo::reconcile {
namespace {

constexpr const char* kUnavailable = "UnavailableLoadBalancer";
constexpr const char* kPortConflict = "PortConflict";
constexpr const char* kInvalidAnnotation = "InvalidAnnotation";
constexpr const char* kAnnotationNotAllowed = "AnnotationNotAllowed";
constexpr const char* kUnsupportedField = "UnsupportedField";
// Pending balancer pods have their own slot: an address change clears the plain
// UnavailableLoadBalancer slot, and must not repeat this warning.
constexpr const char* kUnschedulableSlot = "UnavailableLoadBalancer/unschedulable";
constexpr const char* kFailedCreatePod = "FailedCreatePod";

// Every DaemonSet in `daemonsets` goes. For a Service no longer handled, its status is cleared
// first (only then: while it is handled, the status step below writes it).
void PlanAbsent(ReconcilePlan* p, const api::Service* svc,
                const std::vector<api::ObservedDaemonSet>& daemonsets, const std::string& why,
                const ClassOptions& classes) {
  if (daemonsets.empty()) return;
  if (svc != nullptr && !svc->ingress.empty() && !IsHandled(*svc, classes)) p->clear_status = true;
  for (const api::ObservedDaemonSet& ds : daemonsets) {
    DaemonSetDeletion d{ds.ns, ds.name, why, {}};
    if (svc != nullptr) {
      d.on_deleted.push_back(Notice::Event(
          "Normal", "DeletedDaemonSet", "deleted DaemonSet " + ds.ns + "/" + ds.name + ": " + why));
    }
    p->deletions.push_back(std::move(d));
  }
}

// The status write that gives `svc` this ingress, if it does not have it already (an entry
// with a hostname, ports or a non-default ipMode counts as different).
std::optional<StatusWrite> StatusTo(const api::Service& svc, std::vector<std::string> ingress,
                                    std::vector<api::IngressPort> ports = {}) {
  if (ingress.empty()) ports.clear();
  std::string mode = ports.empty() ? "" : "Proxy";
  if (svc.ingress == ingress && svc.ingress_ports == ports && svc.ingress_ip_mode == mode &&
      !svc.ingress_has_other_fields) {
    return std::nullopt;
  }
  StatusWrite w;
  w.ports = std::move(ports);
  w.ip_mode = std::move(mode);
  if (ingress.empty()) {
    w.on_written.push_back(Notice::Warning(
        kUnavailable,
        "no ready balancer pod; addresses " + JoinAddresses(svc.ingress) + " removed"));
  } else {
    w.on_written.push_back(Notice::ClearWarning(kUnavailable));
    if (svc.ingress != ingress) {
      w.on_written.push_back(Notice::Event(
          "Normal", "UpdatedLoadBalancer",
          "addresses " + JoinAddresses(svc.ingress) + " -> " + JoinAddresses(ingress)));
    }
  }
  w.ingress = std::move(ingress);
  return w;
}

// What a tenant's Service may not decide, taken out of the copy the balancer is built from,
// with the Warnings that say so: annotations of namespaces the admin does not trust, ports the
// nodes need. `port_status` gets every port, with the error of each refused one, when any is.
api::Service Sanitize(const api::Service& svc, const PlanInput& in, const AdminPolicy& policy,
                      std::vector<Notice>* notices, std::vector<api::IngressPort>* port_status,
                      bool* all_refused) {
  api::Service served = svc;
  if (svc.load_balancer_ip) {
    notices->push_back(Notice::Warning(
        kUnsupportedField, "spec.loadBalancerIP " + *svc.load_balancer_ip +
                               " is ignored: the addresses are those of the nodes that run the "
                               "balancer pods (the akrobateo.dev/lbpool label chooses them)"));
  } else {
    notices->push_back(Notice::ClearWarning(kUnsupportedField));
  }
  std::string ignored;
  if (!policy.Trusts(svc.ns)) {
    if (svc.tolerations_json) ignored = std::string(names::kTolerationsAnnotation);
    if (svc.priority_class) {
      ignored += (ignored.empty() ? "" : " and ") + std::string(names::kPriorityClassAnnotation);
    }
    served.tolerations_json.reset();
    served.priority_class.reset();
  }
  if (!ignored.empty()) {
    notices->push_back(Notice::Warning(
        kAnnotationNotAllowed, "annotation " + ignored + " ignored: the cluster admin lets only " +
                                   "trusted namespaces choose where and at which priority " +
                                   "balancer pods run, and " + svc.ns + " is not one " +
                                   "(--trusted-namespaces)"));
  } else {
    notices->push_back(Notice::ClearWarning(kAnnotationNotAllowed));
  }

  std::vector<PortRefusal> refused =
      RefusedPorts(svc, in.key, policy.reserved_ports, in.node_port_owners);
  for (const char* reason : {kReservedPort, kNodePortInUse}) {
    std::string note;
    for (const PortRefusal& r : refused) {
      if (r.reason == reason) note += (note.empty() ? "" : "; ") + r.note;
    }
    notices->push_back(note.empty() ? Notice::ClearWarning(reason) : Notice::Warning(reason, note));
  }
  served.ports.clear();
  for (const api::ServicePort& p : svc.ports) {
    const PortRefusal* r = nullptr;
    for (const PortRefusal& x : refused) {
      if (x.port == p) r = &x;
    }
    if (r == nullptr) served.ports.push_back(p);
    if (!refused.empty()) port_status->push_back({p.port, p.protocol, r ? r->error : ""});
  }
  *all_refused = served.ports.empty() && !refused.empty();
  return served;
}

}  // namespace

bool AdminPolicy::Trusts(const std::string& ns) const {
  for (const std::string& t : trusted_namespaces) {
    if (t == "*" || t == ns) return true;
  }
  return false;
}

Notice Notice::Event(std::string type, std::string reason, std::string note) {
  return {Kind::kEvent, std::move(type), std::move(reason), std::move(note), ""};
}
Notice Notice::Warning(std::string reason, std::string note, std::string slot) {
  return {Kind::kWarning, "Warning", std::move(reason), std::move(note), std::move(slot)};
}
Notice Notice::ClearWarning(std::string slot) {
  return {Kind::kClearWarning, "", "", "", std::move(slot)};
}
Notice Notice::ForgetService() {
  return {Kind::kForgetService, "", "", "", ""};
}

std::string JoinAddresses(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "<none>" : out;
}

ReconcilePlan Plan(const PlanInput& in, const PlanOptions& opts) {
  ReconcilePlan p;
  p.key = in.key;
  p.service = in.service;
  const api::Service* svc = in.service ? &*in.service : nullptr;
  const std::string fin(names::kCleanupFinalizer);
  bool has_finalizer = svc != nullptr && std::find(svc->finalizers.begin(), svc->finalizers.end(),
                                                   fin) != svc->finalizers.end();

  // Deleted or being deleted, or its type or class changed: no DaemonSet, and no status of
  // ours; then the cleanup finalizer goes (for a class change, only where a DaemonSet shows it
  // was ours: the other class's controller may use the same finalizer).
  if (svc == nullptr || svc->being_deleted || !IsHandled(*svc, opts.classes)) {
    if (svc == nullptr) {
      p.before.push_back(Notice::ForgetService());
    } else {
      p.before.push_back(Notice::ClearWarning(kUnschedulableSlot));
      p.before.push_back(Notice::ClearWarning(kFailedCreatePod));
    }
    bool ours = svc != nullptr && (svc->type != "LoadBalancer" || !in.daemonsets.empty() ||
                                   (svc->being_deleted && IsHandled(*svc, opts.classes)));
    PlanAbsent(&p, svc, in.daemonsets,
               svc == nullptr       ? "Service deleted"
               : svc->being_deleted ? "Service being deleted"
                                    : "Service no longer handled",
               opts.classes);
    if (has_finalizer && ours) {
      p.finalizer = ReconcilePlan::FinalizerStep::kRemove;
      for (const std::string& f : svc->finalizers) {
        if (f != fin) p.finalizers.push_back(f);
      }
    }
    return p;
  }
  if (!has_finalizer && opts.cleanup_finalizer) {
    p.finalizer = ReconcilePlan::FinalizerStep::kAdd;
    p.finalizers = svc->finalizers;
    p.finalizers.push_back(fin);
  }

  std::vector<api::IngressPort> port_status;
  bool all_refused = false;
  api::Service served = Sanitize(*svc, in, opts.policy, &p.before, &port_status, &all_refused);
  if (all_refused) {
    p.before.push_back(Notice::ClearWarning(kPortConflict));
    p.before.push_back(Notice::Warning(
        kUnavailable, "no port of the Service can be served: each one is refused (see the " +
                          std::string(kReservedPort) + " and " + kNodePortInUse + " warnings)"));
    p.before.push_back(Notice::ClearWarning(kUnschedulableSlot));
    p.before.push_back(Notice::ClearWarning(kFailedCreatePod));
    PlanAbsent(&p, svc, in.daemonsets, "no port can be served", opts.classes);
    p.status = StatusTo(*svc, {});
    return p;
  }
  Result<DesiredDaemonSet> desired = BuildDaemonSet(served, in.any_node_enable_lb, opts.daemonsets);
  if (in.blocked) {
    const PortConflict& c = *in.blocked;
    p.before.push_back(
        Notice::Warning(kPortConflict, "port " + c.protocol + "/" + std::to_string(c.port) +
                                           " is already held by Service " + c.holder +
                                           "; no balancer until the conflict clears"));
    p.before.push_back(Notice::ClearWarning(kUnschedulableSlot));
    p.before.push_back(Notice::ClearWarning(kFailedCreatePod));
    PlanAbsent(&p, svc, in.daemonsets, "port conflict", opts.classes);
    p.status = StatusTo(*svc, {});
    return p;
  }
  if (!desired) {
    p.before.push_back(Notice::ClearWarning(kPortConflict));
    p.before.push_back(Notice::Warning(kUnavailable, desired.error()));
    p.before.push_back(Notice::ClearWarning(kUnschedulableSlot));
    p.before.push_back(Notice::ClearWarning(kFailedCreatePod));
    PlanAbsent(&p, svc, in.daemonsets, "cannot be balanced", opts.classes);
    p.status = StatusTo(*svc, {});
    return p;
  }

  p.before.push_back(Notice::ClearWarning(kPortConflict));
  for (const std::string& w : desired->warnings) {
    p.before.push_back(Notice::Warning(kInvalidAnnotation, w));
  }
  if (desired->warnings.empty()) p.before.push_back(Notice::ClearWarning(kInvalidAnnotation));

  // DaemonSets of this Service name with an older UID or another name go; the one that
  // matches is updated only when its spec hash differs.
  const api::DaemonSet& ds = desired->ds;
  std::vector<api::ObservedDaemonSet> stale;
  const api::ObservedDaemonSet* current = nullptr;
  for (const api::ObservedDaemonSet& d : in.daemonsets) {
    if (d.name == ds.name && d.service_uid == svc->uid) {
      current = &d;
    } else {
      stale.push_back(d);
    }
  }
  PlanAbsent(&p, svc, stale, "stale DaemonSet of this Service", opts.classes);
  std::string hash = api::SpecHash(ds);
  if (current == nullptr || current->spec_hash != hash) {
    p.apply = DaemonSetApply{ds, hash, current != nullptr ? current->resource_version : ""};
  }

  IngressDecision ingress = DesiredIngress(*svc, in.pods, in.nodes, in.slices, in.now,
                                           current != nullptr ? current->generation : 0);
  p.status = StatusTo(*svc, std::move(ingress.ingress), std::move(port_status));
  p.recheck_after = ingress.recheck_after;

  // Pods the scheduler cannot place (a host port taken on a node, resources, taints): its
  // reason, once per change.
  if (std::optional<std::string> w = UnschedulableWarning(in.pods)) {
    p.after.push_back(Notice::Warning(kUnavailable, *w, kUnschedulableSlot));
  } else {
    p.after.push_back(Notice::ClearWarning(kUnschedulableSlot));
  }
  // A DaemonSet that no node may run is worth a warning even with an empty status.
  if (current != nullptr && current->observed_generation >= current->generation &&
      current->generation > 0 && current->desired_scheduled == 0) {
    p.after.push_back(Notice::Warning(kUnavailable, "no node may run the balancer DaemonSet " +
                                                        current->name +
                                                        " (node selection, taints or host ports)"));
  }
  // Pods the DaemonSet controller could not create (quota, Pod Security, a webhook): the API's
  // message, which otherwise only an Event in the operator namespace carries.
  std::optional<std::string> create_failure;
  if (current != nullptr) {
    create_failure = PodCreateFailureWarning(*current, in.create_failures, in.now);
  }
  if (create_failure) {
    p.after.push_back(Notice::Warning(kFailedCreatePod, *create_failure));
  } else {
    p.after.push_back(Notice::ClearWarning(kFailedCreatePod));
  }
  return p;
}

}  // namespace akrobateo::reconcile
