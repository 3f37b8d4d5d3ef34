// SPDX-License-Identifier: Apache-2.0
// The reconciler: for one Service key, compare the caches with the desired state and write
// only what differs (DaemonSet create / update / delete, status merge-patch, Events).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "operator/cache/caches.h"
#include "operator/kube/client.h"
#include "operator/metrics/metrics.h"
#include "operator/reconcile/conflict.h"
#include "operator/reconcile/desired.h"
#include "operator/reconcile/events.h"
#include "operator/reconcile/handled.h"

namespace akrobateo::reconcile {

struct ReconcilerOptions {
  ClassOptions classes;
  DaemonSetOptions daemonsets;
  std::string instance;  // reportingInstance of Events (the pod or host name)
  // Asks for the key to be reconciled again after a delay that no watch event marks (the end
  // of a restart hold, reconcile/status.h). Unset: not asked.
  std::function<void(const std::string& key, std::chrono::milliseconds delay)> requeue_after;
};

class Reconciler {
 public:
  Reconciler(kube::Client* client, cache::Caches* caches, metrics::Metrics* metrics,
             ReconcilerOptions opts);

  // Empty on success (also when nothing had to be written), else the error; the caller
  // retries the key with backoff.
  std::string Reconcile(const std::string& key);

  // Keys to reconcile on a resync: every Service, plus the Service keys named by managed
  // DaemonSets that are orphans (their Service is gone or no longer handled).
  std::vector<std::string> ResyncKeys();
  // Keys blocked by a port conflict: they must be looked at again when any Service changes.
  std::vector<std::string> BlockedKeys();

  // Called by the Service cache handler: notes whether the change can alter which Services are
  // handled or which ports they hold (status and metadata changes cannot), and keeps the port
  // claims of the handled Services, so that the port conflict table is recomputed only then
  // and from those claims alone.
  void ServiceChanged(const api::Service* old, const api::Service* now);

  // Posts the pending Events (after the workers have stopped).
  void Stop() { events_.Stop(); }

 private:
  struct Derived {
    uint64_t claims_epoch = ~uint64_t{0};
    uint64_t nodes_version = ~uint64_t{0};
    std::map<std::string, PortConflict> blocked;
    bool any_node_enable_lb = false;
  };
  // Brings derived_ up to date with claims_ and the node cache (only what changed); mu_ must
  // be held.
  void RefreshLocked();
  std::string EnsureAbsent(const std::string& key, const api::Service* svc,
                           const std::vector<api::DaemonSetInfo>& daemonsets,
                           const std::string& why);
  std::string ApplyDaemonSet(const api::Service& svc, const api::DaemonSet& desired,
                             const std::vector<api::DaemonSetInfo>& existing);
  std::string WriteStatus(const api::Service& svc, const std::vector<std::string>& ingress);
  // Emits a Warning unless the same note was the last one emitted in `slot` (default: the
  // reason) for this Service.
  void WarnOnce(const api::Service& svc, const std::string& reason, const std::string& note,
                const std::string& slot = "");
  void ClearWarning(const std::string& key, const std::string& reason);

  kube::Client* client_;
  cache::Caches* caches_;
  metrics::Metrics* metrics_;
  ReconcilerOptions opts_;
  EventRecorder events_;

  std::mutex mu_;
  // Guarded by mu_: the port claims of every handled Service by "namespace/name", bumped
  // claims_epoch_ on each change, and what was derived from them.
  PortClaims claims_;
  uint64_t claims_epoch_ = 0;
  Derived derived_;
  std::map<std::pair<std::string, std::string>, std::string> warned_;  // (key, reason) -> note
};

}  // namespace akrobateo::reconcile
