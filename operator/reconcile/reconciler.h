// SPDX-License-Identifier: Apache-2.0
// The reconciler: for one Service key, read what the caches hold for it (Gather), decide with
// the pure Plan (plan.h), and carry the plan out with the Executor (executor.h) through the
// typed client. It also keeps what is derived from every Service and node (the port conflict
// table, whether any node carries enablelb), refreshed from the caches when a reconcile reads
// it: the watch handlers never touch it.
#ifndef AKROBATEO_OPERATOR_RECONCILE_RECONCILER_H_
#define AKROBATEO_OPERATOR_RECONCILE_RECONCILER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "operator/api/types.h"
#include "operator/base/result.h"
#include "operator/cache/store.h"
#include "operator/kube/typed_client.h"
#include "operator/metrics/metrics.h"
#include "operator/reconcile/conflict.h"
#include "operator/reconcile/events.h"
#include "operator/reconcile/executor.h"
#include "operator/reconcile/plan.h"
#include "operator/reconcile/warnings.h"

namespace akrobateo::reconcile {

struct ReconcilerOptions {
  ClassOptions classes;
  DaemonSetOptions daemonsets;
  AdminPolicy policy;
  bool cleanup_finalizer = false;
  std::string instance;  // reportingInstance of Events (the pod or host name)
  // Asks for the key to be reconciled again after a delay that no watch event marks
  // (ReconcilePlan::recheck_after). Unset: not asked.
  std::function<void(const std::string& key, std::chrono::milliseconds delay)> requeue_after;
};

// The caches a reconcile reads, indexed as cache::Caches indexes them. The Service store is
// writable for one purpose: a status write's answer replaces the cached copy (Store::ReplaceIf).
struct Listers {
  cache::Store<api::Service>* services = nullptr;
  const cache::Store<api::Node>* nodes = nullptr;
  const cache::Store<api::EndpointSlice>* slices = nullptr;
  const cache::Store<api::ObservedDaemonSet>* daemonsets = nullptr;
  const cache::Store<api::Pod>* pods = nullptr;
  // Indexed by DaemonSet UID (cache::PodCreateFailureDaemonSet); may be null.
  const cache::Store<api::PodCreateFailure>* create_failures = nullptr;
};

class Reconciler {
 public:
  Reconciler(kube::TypedClient* client, Listers listers, metrics::Metrics* metrics,
             ReconcilerOptions opts);

  // Ok also when nothing had to be written; on an error the caller retries the key with
  // backoff.
  Status Reconcile(const std::string& key);

  // Keys to reconcile on a resync: every Service, plus the Service keys named by managed
  // DaemonSets that are orphans (their Service is gone or no longer handled). Orphans that name
  // no Service at all are deleted here.
  std::vector<std::string> ResyncKeys();
  // Keys blocked by a port conflict as of the last reconcile: they must be looked at again
  // when any Service changes.
  std::vector<std::string> BlockedKeys();

  // What one reconcile of `key` reads (exposed for tests).
  PlanInput Gather(const std::string& key);

  // Waits until the Events emitted so far are posted (tests).
  void FlushEvents() { events_.Flush(); }
  // Posts the pending Events (after the workers have stopped).
  void Stop() { events_.Stop(); }

 private:
  struct Derived {
    uint64_t services_version = ~uint64_t{0};
    uint64_t claims_epoch = ~uint64_t{0};
    uint64_t nodes_version = ~uint64_t{0};
    std::map<std::string, PortConflict> blocked;
    bool any_node_enable_lb = false;
    NodePortOwners node_ports;  // every Service's nodePorts
  };
  // Brings claims_ and derived_ up to date with the Service and node caches (only what
  // changed); mu_ must be held.
  void RefreshLocked();
  void SyncClaimsLocked();
  // Keeps refused_ in line with what the last write of `key` found.
  void NoteApplyOutcome(const std::string& key, const ReconcilePlan& plan, const Status& result,
                        bool apply_refused);

  Listers listers_;
  metrics::Metrics* metrics_;
  ReconcilerOptions opts_;
  PlanOptions plan_opts_;
  EventRecorder events_;
  WarningMemory warnings_;
  Executor executor_;

  std::mutex mu_;
  // Guarded by mu_: the port claims of every handled Service by "namespace/name" (claims_epoch_
  // counts their changes), and what was derived from them and the nodes.
  PortClaims claims_;
  uint64_t claims_epoch_ = 0;
  Derived derived_;
  // Services whose DaemonSet the API refused (apply_refused): they claim no port until a
  // write of theirs succeeds, so that a Service that cannot be served blocks nobody.
  std::set<std::string> refused_;
};

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_RECONCILER_H_
