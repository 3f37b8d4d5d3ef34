// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/reconciler.h"

#include <chrono>
#include <optional>
#include <unordered_map>
#include <utility>

#include "operator/api/decode.h"
#include "operator/base/log.h"
#include "operator/cache/caches.h"
#include "operator/names.h"
#include "operator/reconcile/orphans.h"

namespace akrobateo::reconcile {

Reconciler::Reconciler(kube::TypedClient* client, Listers listers, metrics::Metrics* metrics,
                       ReconcilerOptions opts)
    : listers_(listers),
      metrics_(metrics),
      opts_(std::move(opts)),
      plan_opts_{opts_.classes, opts_.daemonsets, opts_.policy, opts_.cleanup_finalizer},
      events_(client, opts_.instance),
      executor_(client, listers_.services, &events_, &warnings_) {}

void Reconciler::SyncClaimsLocked() {
  // Compares each Service with its claim without copying (a status write changes the cache,
  // not the claims); only a Service whose claim differs is copied in.
  // First every nodePort in use, then the claims, which leave out the ports refused for it.
  NodePortOwners owners;
  listers_.services->ForEach([&](const std::string& key, const api::Service& s) {
    for (int32_t np : s.node_ports) owners.emplace(np, key);
  });
  derived_.node_ports = std::move(owners);
  size_t handled = 0;
  bool changed = false;
  listers_.services->ForEach([&](const std::string& key, const api::Service& s) {
    bool is_handled = IsHandled(s, opts_.classes);
    if (is_handled) ++handled;
    auto serves = [&](const api::ServicePort& p) {
      return !IsRefused(p, key, opts_.policy.reserved_ports, derived_.node_ports);
    };
    bool claims = is_handled && refused_.count(key) == 0;
    changed = claims_.Sync(key, claims ? &s : nullptr, serves) || changed;
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
  std::vector<api::ObservedDaemonSet> all =
      listers_.daemonsets->Select([](const api::ObservedDaemonSet&) { return true; });
  for (const api::ObservedDaemonSet& o : SelectOrphans(all, wanted)) {
    LogInfo("orphan", {{"daemonset", cache::DaemonSetKey(o)},
                       {"service", cache::NsName(o.service_ns, o.service_name)},
                       {"uid", o.service_uid}});
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
    for (const api::ServicePort& p : in.service->ports) {
      if (auto it = derived_.node_ports.find(p.port); it != derived_.node_ports.end()) {
        in.node_port_owners.insert(*it);
      }
    }
  }
  if (in.blocked) return in;
  in.pods = listers_.pods->ByIndex(in.service->uid);
  if (listers_.create_failures != nullptr) {
    for (const api::ObservedDaemonSet& d : in.daemonsets) {
      for (api::PodCreateFailure& f : listers_.create_failures->ByIndex(d.uid)) {
        in.create_failures.push_back(std::move(f));
      }
    }
  }
  for (const api::Pod& p : in.pods) {
    if (auto n = listers_.nodes->Get(p.node_name)) in.nodes.push_back(std::move(*n));
  }
  if (in.service->external_traffic_local) in.slices = listers_.slices->ByIndex(key);
  return in;
}

Status Reconciler::Reconcile(const std::string& key) {
  auto start = std::chrono::steady_clock::now();
  ReconcilePlan plan = Plan(Gather(key), plan_opts_);
  bool apply_refused = false;
  Status result = executor_.Execute(plan, &apply_refused);
  NoteApplyOutcome(key, plan, result, apply_refused);
  if (plan.recheck_after.count() > 0 && opts_.requeue_after) {
    opts_.requeue_after(key, plan.recheck_after);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->ReconcileDone(result ? "success" : "error", secs);
  if (!result) {
    LogWarn("reconcile", {{"service", key},
                          Quoted("error", api::Capped(result.error(), names::kMaxLoggedError))});
  }
  return result;
}

void Reconciler::NoteApplyOutcome(const std::string& key, const ReconcilePlan& plan,
                                  const Status& result, bool apply_refused) {
  bool handled = plan.service && IsHandled(*plan.service, opts_.classes);
  std::vector<std::string> free_now;
  {
    std::lock_guard lock(mu_);
    bool was = refused_.count(key) != 0;
    bool is = was;
    if (apply_refused && handled) {
      is = true;
    } else if (!handled || !plan.apply || result) {
      is = false;  // gone, nothing to write, or written: it claims its ports again
    }
    if (is == was) return;
    if (is) {
      refused_.insert(key);
      LogWarn("holds no port claim: the API refused its DaemonSet", {{"service", key}});
    } else {
      refused_.erase(key);
    }
    for (const auto& [k, c] : derived_.blocked) free_now.push_back(k);
    derived_.services_version = ~uint64_t{0};  // recompute the claims
    RefreshLocked();
    for (const auto& [k, c] : derived_.blocked) free_now.push_back(k);
  }
  // The Services its claim blocked may be served now (and ones it blocks again must hear it).
  if (opts_.requeue_after) {
    for (const std::string& k : free_now) opts_.requeue_after(k, std::chrono::milliseconds(0));
  }
}

}  // namespace akrobateo::reconcile
