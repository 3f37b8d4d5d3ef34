// SPDX-License-Identifier: Apache-2.0
// Executor: carries out a ReconcilePlan (plan.h) through the typed client, in the plan's
// order, and turns its notices into Events and deduplicated Warnings. The few decisions that
// need the API server's answer live here: a create that finds the DaemonSet there already
// becomes an update, and an update that loses a race (Conflict) re-reads and tries again.
#ifndef AKROBATEO_OPERATOR_RECONCILE_EXECUTOR_H_
#define AKROBATEO_OPERATOR_RECONCILE_EXECUTOR_H_

#include <string>
#include <vector>

#include "operator/api/types.h"
#include "operator/base/result.h"
#include "operator/cache/store.h"
#include "operator/kube/typed_client.h"
#include "operator/reconcile/events.h"
#include "operator/reconcile/plan.h"
#include "operator/reconcile/warnings.h"

namespace akrobateo::reconcile {

class Executor {
 public:
  // `services`: the Service cache; a status write's answer replaces the cached copy at once.
  Executor(kube::TypedClient* client, cache::Store<api::Service>* services, EventRecorder* events,
           WarningMemory* warnings)
      : client_(client), services_(services), events_(events), warnings_(warnings) {}

  // `apply_refused` (optional) is set when the API refused the DaemonSet write itself (invalid,
  // forbidden, a PriorityClass that does not exist): retrying the same write cannot succeed.
  Status Execute(const ReconcilePlan& plan, bool* apply_refused = nullptr);

  // A managed DaemonSet that names no Service at all (orphan sweep): deleted right away.
  Status DeleteOrphan(const api::ObservedDaemonSet& ds);

  // Update attempts on Conflict before the reconcile gives up (and the queue retries later).
  static constexpr int kUpdateAttempts = 3;

 private:
  void Notify(const ReconcilePlan& plan, const std::vector<Notice>& notices);
  Status ClearStatus(ReconcilePlan* plan);
  Status WriteFinalizers(ReconcilePlan* plan);
  Status Delete(const ReconcilePlan& plan, const DaemonSetDeletion& d);
  Status Apply(const ReconcilePlan& plan, const DaemonSetApply& a);
  Status WriteStatus(ReconcilePlan* plan, const StatusWrite& w);
  // Replaces the cached Service with a write's answer, unless the cache has moved past the
  // version the write was conditioned on (`held_by_plan`'s) already; the plan's copy takes the
  // new resourceVersion, which the plan's next write of the Service is conditioned on.
  void Adopt(api::Service* held_by_plan, api::Service written);

  kube::TypedClient* client_;
  cache::Store<api::Service>* services_;
  EventRecorder* events_;
  WarningMemory* warnings_;
};

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_EXECUTOR_H_
