// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/executor.h"

#include <utility>

#include "operator/base/log.h"
#include "operator/cache/caches.h"
#include "operator/names.h"

namespace akrobateo::reconcile {

namespace {

constexpr const char* kFailedApply = "FailedApplyDaemonSet";

}  // namespace

Status Executor::Execute(const ReconcilePlan& planned, bool* apply_refused) {
  // A copy: each write of the Service moves its resourceVersion, which the next is conditioned on.
  ReconcilePlan plan = planned;
  Notify(plan, plan.before);
  if (plan.finalizer == ReconcilePlan::FinalizerStep::kAdd) {
    if (Status s = WriteFinalizers(&plan); !s) return s;
  }
  if (plan.clear_status) {
    if (Status s = ClearStatus(&plan); !s) return s;
  }
  for (const DaemonSetDeletion& d : plan.deletions) {
    if (Status s = Delete(plan, d); !s) return s;
  }
  if (plan.finalizer == ReconcilePlan::FinalizerStep::kRemove) {
    if (Status s = WriteFinalizers(&plan); !s) return s;
  }
  if (plan.apply) {
    Status s = Apply(plan, *plan.apply);
    if (!s) {
      // The API's own words reach the Service (once per message), not only the log.
      Notify(plan, {Notice::Warning(kFailedApply,
                                    "cannot apply DaemonSet " + plan.apply->desired.ns + "/" +
                                        plan.apply->desired.name + ": " + s.error())});
      if (apply_refused != nullptr) {
        *apply_refused =
            s.Is(ErrorKind::kInvalid) || s.Is(ErrorKind::kForbidden) || s.Is(ErrorKind::kNotFound);
      }
      return s;
    }
    Notify(plan, {Notice::ClearWarning(kFailedApply)});
  }
  Status result;
  if (plan.status) result = WriteStatus(&plan, *plan.status);
  Notify(plan, plan.after);
  return result;
}

void Executor::Notify(const ReconcilePlan& plan, const std::vector<Notice>& notices) {
  for (const Notice& n : notices) {
    switch (n.kind) {
      case Notice::Kind::kForgetService:
        warnings_->Forget(plan.key);
        break;
      case Notice::Kind::kClearWarning:
        warnings_->Clear(plan.key, n.slot);
        break;
      case Notice::Kind::kWarning:
        if (plan.service &&
            warnings_->Remember(plan.key, n.slot.empty() ? n.reason : n.slot, n.note)) {
          events_->Emit(*plan.service, "Warning", n.reason, n.note);
        }
        break;
      case Notice::Kind::kEvent:
        if (plan.service) events_->Emit(*plan.service, n.type, n.reason, n.note);
        break;
    }
  }
}

Status Executor::ClearStatus(ReconcilePlan* plan) {
  api::Service& svc = *plan->service;
  auto written = client_->Services(svc.ns).PatchStatus(svc.name, {}, svc.resource_version);
  if (!written && !written.Is(ErrorKind::kNotFound)) {
    return Context("clear status", written.status());
  }
  if (written && written->has_value()) Adopt(&svc, std::move(**written));
  LogInfo("cleared status", {{"service", plan->key}});
  return Ok();
}

Status Executor::WriteFinalizers(ReconcilePlan* plan) {
  api::Service& svc = *plan->service;
  auto written =
      client_->Services(svc.ns).PatchFinalizers(svc.name, plan->finalizers, svc.resource_version);
  if (written.Is(ErrorKind::kNotFound)) return Ok();  // gone: nothing holds it any more
  if (!written) return Context("patch finalizers", written.status());
  if (written->has_value()) Adopt(&svc, std::move(**written));
  LogInfo(plan->finalizer == ReconcilePlan::FinalizerStep::kAdd ? "added" : "removed",
          {{"finalizer", names::kCleanupFinalizer}, {"service", plan->key}});
  return Ok();
}

Status Executor::Delete(const ReconcilePlan& plan, const DaemonSetDeletion& d) {
  Status s = client_->DaemonSets(d.ns).Delete(d.name);
  if (!s && !s.Is(ErrorKind::kNotFound)) {
    return Context("delete daemonset " + d.name, s.status());
  }
  LogInfo(
      "deleted",
      {{"daemonset", cache::NsName(d.ns, d.name)}, {"service", plan.key}, Quoted("reason", d.why)});
  if (s) Notify(plan, d.on_deleted);
  return Ok();
}

Status Executor::Apply(const ReconcilePlan& plan, const DaemonSetApply& a) {
  const api::Service& svc = *plan.service;
  const api::DaemonSet& ds = a.desired;
  kube::TypedClient::DaemonSetClient daemonsets = client_->DaemonSets(ds.ns);
  auto applied = [&](const std::string& verb) {
    LogInfo(
        verb,
        {{"daemonset", cache::NsName(ds.ns, ds.name)}, {"service", plan.key}, {"hash", a.hash}});
    events_->Emit(svc, "Normal", "AppliedDaemonSet", verb + " DaemonSet " + ds.ns + "/" + ds.name);
    return Ok();
  };
  // A missing PriorityClass would let the DaemonSet in and keep every pod out (the Priority
  // admission refuses them): found here, it is the Service's Warning instead.
  if (!ds.priority_class.empty()) {
    Status pc = client_->PriorityClasses().Get(ds.priority_class);
    if (pc.Is(ErrorKind::kNotFound)) {
      return Error{
          "PriorityClass \"" + ds.priority_class + "\" does not exist (" + pc.error() + ")",
          ErrorKind::kInvalid};
    }
    if (!pc) return Context("get priorityclass " + ds.priority_class, pc.status());
  }
  std::string rv = a.resource_version;
  if (rv.empty()) {
    Status created = daemonsets.Create(ds);
    if (created) return applied("created");
    if (!created.Is(ErrorKind::kAlreadyExists) && !created.Is(ErrorKind::kConflict)) {
      return Context("create daemonset " + ds.name, created.status());
    }
    // Already there (the cache lags): fall through to a fresh read and an update.
  }
  for (int attempt = 0; attempt < kUpdateAttempts; ++attempt) {
    if (rv.empty()) {
      Result<api::ObservedDaemonSet> got = daemonsets.Get(ds.name);
      if (!got) return Context("get daemonset " + ds.name, got.status());
      if (got->service_uid != svc.uid) {
        return Error{"DaemonSet " + ds.name + " exists but belongs to Service UID \"" +
                     got->service_uid + "\""};
      }
      if (got->spec_hash == a.hash) return Ok();
      rv = got->resource_version;
    }
    Status updated = daemonsets.Update(ds, rv);
    if (updated) return applied("updated");
    if (!updated.Is(ErrorKind::kConflict)) {
      return Context("update daemonset " + ds.name, updated.status());
    }
    rv.clear();  // conflict: re-read and try again
  }
  return Error{"update daemonset " + ds.name + ": still conflicting after " +
                   std::to_string(kUpdateAttempts) + " attempts",
               ErrorKind::kConflict};
}

Status Executor::WriteStatus(ReconcilePlan* planp, const StatusWrite& w) {
  const ReconcilePlan& plan = *planp;
  api::Service& svc = *planp->service;
  auto written = client_->Services(svc.ns).PatchStatus(svc.name, {w.ingress, w.ports, w.ip_mode},
                                                       svc.resource_version);
  if (written.Is(ErrorKind::kConflict)) {
    return Error{"status conflict (Service changed); retrying", ErrorKind::kConflict};
  }
  if (!written) return Context("patch status", written.status());
  std::string previous = JoinAddresses(svc.ingress);
  if (written->has_value()) Adopt(&svc, std::move(**written));
  LogInfo("status",
          {{"service", plan.key}, {"ingress", JoinAddresses(w.ingress)}, {"previous", previous}});
  Notify(plan, w.on_written);
  return Ok();
}

Status Executor::DeleteOrphan(const api::ObservedDaemonSet& ds) {
  Status s = client_->DaemonSets(ds.ns).Delete(ds.name);
  LogInfo("deleted", {{"daemonset", cache::DaemonSetKey(ds)},
                      {"reason", "orphan"},
                      s ? LogField("result", "ok") : Quoted("result", s.error())});
  if (!s && !s.Is(ErrorKind::kNotFound)) return Context("delete daemonset " + ds.name, s.status());
  return Ok();
}

void Executor::Adopt(api::Service* held_by_plan, api::Service written) {
  std::string written_against = held_by_plan->resource_version;
  held_by_plan->resource_version = written.resource_version;
  std::string key = cache::ServiceKey(written);
  services_->ReplaceIf(
      key, [&](const api::Service& held) { return held.resource_version == written_against; },
      std::move(written));
}

}  // namespace akrobateo::reconcile
