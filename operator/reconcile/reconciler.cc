// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/reconciler.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <unordered_map>
#include <utility>

#include "operator/base/log.h"
#include "operator/cache/caches.h"
#include "operator/reconcile/orphans.h"

namespace akrobateo::reconcile {

Reconciler::Reconciler(kube::TypedClient* client, Listers listers, metrics::Metrics* metrics,
                       ReconcilerOptions opts)
    : listers_(listers),
      metrics_(metrics),
      opts_(std::move(opts)),
      plan_opts_{opts_.classes, opts_.daemonsets},
      events_(client, opts_.instance),
      executor_(client, listers_.services, &events_, &warnings_) {}

void Reconciler::SyncClaimsLocked() {
  // Compares each Service with its claim without copying (a status write changes the cache,
  // not the claims); only a Service whose claim differs is copied in.
  size_t handled = 0;
  bool changed = false;
  listers_.services->ForEach([&](const std::string& key, const api::Service& s) {
    bool is_handled = IsHandled(s, opts_.classes);
    if (is_handled) ++handled;
    changed = claims_.Sync(key, is_handled ? &s : nullptr) || changed;
  });
  if (claims_.Size() > handled) {  // claims of Services no longer in the cache
    for (const std::string& key : claims_.Keys()) {
      if (!listers_.services->Get(key)) changed = claims_.Sync(key, nullptr) || changed;
    }
  }
  if (changed) ++claims_epoch_;
}

void Reconciler::RefreshLocked() {
  uint64_t sv = listers_.services->Version();
  if (sv != derived_.services_version) {
    SyncClaimsLocked();
    derived_.services_version = sv;
  }
  if (claims_epoch_ != derived_.claims_epoch) {
    derived_.blocked = claims_.Conflicts();
    metrics_->SetManagedServices(static_cast<int64_t>(claims_.Size() - derived_.blocked.size()));
    derived_.claims_epoch = claims_epoch_;
  }
  uint64_t nv = listers_.nodes->Version();
  if (nv != derived_.nodes_version) {
    bool any = false;
    listers_.nodes->ForEach(
        [&any](const std::string&, const api::Node& n) { any = any || n.enable_lb; });
    derived_.any_node_enable_lb = any;
    derived_.nodes_version = nv;
  }
}

std::vector<std::string> Reconciler::BlockedKeys() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [k, c] : derived_.blocked) out.push_back(k);
  return out;
}

std::vector<std::string> Reconciler::ResyncKeys() {
  std::map<std::string, PortConflict> blocked;
  {
    std::lock_guard lock(mu_);
    RefreshLocked();
    blocked = derived_.blocked;
  }
  // Service UID -> the DaemonSet name it should have, for every handled, unblocked Service.
  std::unordered_map<std::string, std::string> wanted;
  std::vector<std::string> keys;
  listers_.services->ForEach([&](const std::string& k, const api::Service& s) {
    keys.push_back(k);
    if (IsHandled(s, opts_.classes) && blocked.count(k) == 0) {
      wanted[s.uid] = DaemonSetName(s.ns, s.name, s.uid);
    }
  });
  std::vector<api::DaemonSetInfo> all =
      listers_.daemonsets->Select([](const api::DaemonSetInfo&) { return true; });
  for (const api::DaemonSetInfo& o : SelectOrphans(all, wanted)) {
    spdlog::info("orphan daemonset={}/{} service={}/{} uid={}", o.ns, o.name, o.service_ns,
                 o.service_name, o.service_uid);
    if (!o.service_ns.empty() && !o.service_name.empty()) {
      keys.push_back(cache::NsName(o.service_ns, o.service_name));
    } else {
      // No Service to hang it on: delete it right here (a failure is logged; the next
      // resync tries again).
      (void)executor_.DeleteOrphan(o);
    }
  }
  return keys;
}

PlanInput Reconciler::Gather(const std::string& key) {
  PlanInput in;
  in.key = key;
  in.now = std::chrono::system_clock::now();
  in.service = listers_.services->Get(key);
  // The DaemonSets labelled with this Service's namespace/name (any UID), from the index.
  in.daemonsets = listers_.daemonsets->ByIndex(key);
  if (!in.service || !IsHandled(*in.service, opts_.classes)) return in;
  {
    // Only this key's entry is copied out: the tables grow with the number of Services.
    std::lock_guard lock(mu_);
    RefreshLocked();
    if (auto it = derived_.blocked.find(key); it != derived_.blocked.end()) {
      in.blocked = it->second;
    }
    in.any_node_enable_lb = derived_.any_node_enable_lb;
  }
  if (in.blocked) return in;
  in.pods = listers_.pods->ByIndex(in.service->uid);
  for (const api::Pod& p : in.pods) {
    if (auto n = listers_.nodes->Get(p.node_name)) in.nodes.push_back(std::move(*n));
  }
  if (in.service->external_traffic_local) in.slices = listers_.slices->ByIndex(key);
  return in;
}

Status Reconciler::Reconcile(const std::string& key) {
  auto start = std::chrono::steady_clock::now();
  ReconcilePlan plan = Plan(Gather(key), plan_opts_);
  Status result = executor_.Execute(plan);
  if (plan.recheck_after.count() > 0 && opts_.requeue_after) {
    opts_.requeue_after(key, plan.recheck_after);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->ReconcileDone(result ? "success" : "error", secs);
  if (!result) spdlog::warn("reconcile service={} error={}", key, Quote(result.error()));
  return result;
}

}  // namespace akrobateo::reconcile
