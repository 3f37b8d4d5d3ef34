// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/reconciler.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "operator/api/daemonset.h"
#include "operator/base/log.h"
#include "operator/names.h"
#include "operator/reconcile/orphans.h"
#include "operator/reconcile/status.h"
#include "operator/reconcile/unschedulable.h"

namespace akrobateo::reconcile {
namespace {

using nlohmann::json;

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ",") + s;
  return out.empty() ? "<none>" : out;
}

// Pending balancer pods have their own slot: an address change clears the plain
// UnavailableLoadBalancer slot, and must not repeat this warning.
constexpr const char* kUnschedulableSlot = "UnavailableLoadBalancer/unschedulable";

std::string DsPath(const std::string& ns, const std::string& name = "") {
  return "/apis/apps/v1/namespaces/" + ns + "/daemonsets" + (name.empty() ? "" : "/" + name);
}

}  // namespace

Reconciler::Reconciler(kube::Client* client, cache::Caches* caches, metrics::Metrics* metrics,
                       ReconcilerOptions opts)
    : client_(client),
      caches_(caches),
      metrics_(metrics),
      opts_(std::move(opts)),
      events_(client, opts_.instance) {}

void Reconciler::RefreshLocked() {
  if (claims_epoch_ != derived_.claims_epoch) {
    derived_.blocked = claims_.Conflicts();
    metrics_->SetManagedServices(static_cast<int64_t>(claims_.Size() - derived_.blocked.size()));
    derived_.claims_epoch = claims_epoch_;
  }
  uint64_t nv = caches_->nodes.store().Version();
  if (nv != derived_.nodes_version) {
    bool any = false;
    caches_->nodes.store().ForEach(
        [&any](const std::string&, const api::Node& n) { any = any || n.enable_lb; });
    derived_.any_node_enable_lb = any;
    derived_.nodes_version = nv;
  }
}

void Reconciler::ServiceChanged(const api::Service* old, const api::Service* now) {
  auto relevant = [this](const api::Service* s) {
    if (s == nullptr || !IsHandled(*s, opts_.classes)) return std::string();
    std::string out = s->uid + "|" + s->creation_timestamp + "|" + s->lb_pool + "|";
    for (const api::ServicePort& p : s->ports) {
      out += p.protocol + "/" + std::to_string(p.port) + ",";
    }
    return out;
  };
  if (relevant(old) == relevant(now)) return;
  std::string key = cache::ServiceKey(now != nullptr ? *now : *old);
  std::lock_guard lock(mu_);
  if (now != nullptr && IsHandled(*now, opts_.classes)) {
    claims_.Set(key, ClaimOf(*now));
  } else {
    claims_.Erase(key);
  }
  ++claims_epoch_;
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
  caches_->services.store().ForEach([&](const std::string& k, const api::Service& s) {
    keys.push_back(k);
    if (IsHandled(s, opts_.classes) && blocked.count(k) == 0) {
      wanted[s.uid] = DaemonSetName(s.ns, s.name, s.uid);
    }
  });
  std::vector<api::DaemonSetInfo> all =
      caches_->daemonsets.store().Select([](const api::DaemonSetInfo&) { return true; });
  for (const api::DaemonSetInfo& o : SelectOrphans(all, wanted)) {
    spdlog::info("orphan daemonset={}/{} service={}/{} uid={}", o.ns, o.name, o.service_ns,
                 o.service_name, o.service_uid);
    if (!o.service_ns.empty() && !o.service_name.empty()) {
      keys.push_back(cache::NsName(o.service_ns, o.service_name));
    } else {
      // No Service to hang it on: delete it right here.
      kube::Response r = client_->Request("delete", "DELETE",
                                          DsPath(o.ns, o.name) + "?propagationPolicy=Background");
      spdlog::info("deleted daemonset={}/{} reason=orphan status={}", o.ns, o.name, r.status);
    }
  }
  return keys;
}

void Reconciler::WarnOnce(const api::Service& svc, const std::string& reason,
                          const std::string& note, const std::string& slot) {
  {
    std::lock_guard lock(mu_);
    auto& last = warned_[{cache::ServiceKey(svc), slot.empty() ? reason : slot}];
    if (last == note) return;
    last = note;
  }
  events_.Emit(svc, "Warning", reason, note);
}

void Reconciler::ClearWarning(const std::string& key, const std::string& reason) {
  std::lock_guard lock(mu_);
  warned_.erase({key, reason});
}

std::string Reconciler::Reconcile(const std::string& key) {
  auto start = std::chrono::steady_clock::now();
  std::string err;
  std::optional<api::Service> svc = caches_->services.store().Get(key);
  // The DaemonSets labelled with this Service's namespace/name (any UID), from the index.
  std::vector<api::DaemonSetInfo> daemonsets = caches_->daemonsets.store().ByIndex(key);

  if (!svc || !IsHandled(*svc, opts_.classes)) {
    err = EnsureAbsent(key, svc ? &*svc : nullptr, daemonsets,
                       !svc ? "Service deleted" : "Service no longer handled");
    if (svc) ClearWarning(key, kUnschedulableSlot);
    if (!svc) {
      std::lock_guard lock(mu_);
      for (auto it = warned_.lower_bound({key, ""}); it != warned_.end() && it->first.first == key;)
        it = warned_.erase(it);
    }
  } else {
    // Only this key's entry is copied out: the tables grow with the number of Services.
    std::optional<PortConflict> blocked;
    bool any_node_enable_lb = false;
    {
      std::lock_guard lock(mu_);
      RefreshLocked();
      if (auto it = derived_.blocked.find(key); it != derived_.blocked.end()) blocked = it->second;
      any_node_enable_lb = derived_.any_node_enable_lb;
    }
    Result<DesiredDaemonSet> desired = BuildDaemonSet(*svc, any_node_enable_lb, opts_.daemonsets);
    if (blocked) {
      const PortConflict& c = *blocked;
      WarnOnce(*svc, "PortConflict",
               "port " + c.protocol + "/" + std::to_string(c.port) +
                   " is already held by Service " + c.holder +
                   "; no balancer until the conflict clears");
      ClearWarning(key, kUnschedulableSlot);
      err = EnsureAbsent(key, &*svc, daemonsets, "port conflict");
      if (err.empty()) err = WriteStatus(*svc, {});
    } else if (!desired) {
      ClearWarning(key, "PortConflict");
      WarnOnce(*svc, "UnavailableLoadBalancer", desired.error());
      ClearWarning(key, kUnschedulableSlot);
      err = EnsureAbsent(key, &*svc, daemonsets, "cannot be balanced");
      if (err.empty()) err = WriteStatus(*svc, {});
    } else {
      ClearWarning(key, "PortConflict");
      for (const std::string& w : desired->warnings) WarnOnce(*svc, "InvalidAnnotation", w);
      if (desired->warnings.empty()) ClearWarning(key, "InvalidAnnotation");
      err = ApplyDaemonSet(*svc, desired->ds, daemonsets);
      if (err.empty()) {
        std::vector<api::Pod> pods = caches_->pods.store().ByIndex(svc->uid);
        std::vector<api::Node> nodes;
        for (const api::Pod& p : pods) {
          if (auto n = caches_->nodes.store().Get(p.node_name)) nodes.push_back(std::move(*n));
        }
        std::vector<api::EndpointSlice> slices;
        if (svc->external_traffic_local) {
          slices = caches_->slices.store().ByIndex(key);
        }
        IngressDecision ingress =
            DesiredIngress(*svc, pods, nodes, slices, std::chrono::system_clock::now());
        err = WriteStatus(*svc, ingress.ingress);
        if (ingress.recheck_after.count() > 0 && opts_.requeue_after) {
          opts_.requeue_after(key, ingress.recheck_after);
        }
        // Pods the scheduler cannot place (a host port taken on a node, resources, taints):
        // its reason, once per change.
        if (std::optional<std::string> w = UnschedulableWarning(pods)) {
          WarnOnce(*svc, "UnavailableLoadBalancer", *w, kUnschedulableSlot);
        } else {
          ClearWarning(key, kUnschedulableSlot);
        }
        // A DaemonSet that no node may run is worth a warning even with an empty status.
        for (const api::DaemonSetInfo& ds : daemonsets) {
          if (ds.name == desired->ds.name && ds.observed_generation >= ds.generation &&
              ds.generation > 0 && ds.desired_scheduled == 0) {
            WarnOnce(*svc, "UnavailableLoadBalancer",
                     "no node may run the balancer DaemonSet " + ds.name +
                         " (node selection, taints or host ports)");
          }
        }
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_->ReconcileDone(err.empty() ? "success" : "error", secs);
  if (!err.empty()) spdlog::warn("reconcile service={} error={}", key, Quote(err));
  return err;
}

std::string Reconciler::EnsureAbsent(const std::string& key, const api::Service* svc,
                                     const std::vector<api::DaemonSetInfo>& daemonsets,
                                     const std::string& why) {
  if (daemonsets.empty()) return "";
  // Clear the status first: the DaemonSet is the evidence that this status is ours.
  if (svc != nullptr && !svc->ingress.empty() && !IsHandled(*svc, opts_.classes)) {
    json patch = {{"metadata", {{"resourceVersion", svc->resource_version}}},
                  {"status", {{"loadBalancer", {{"ingress", nullptr}}}}}};
    kube::Response r = client_->Request(
        "patch", "PATCH", "/api/v1/namespaces/" + svc->ns + "/services/" + svc->name + "/status",
        patch.dump(), "application/merge-patch+json");
    if (!r.ok() && r.status != 404) return "clear status: " + r.Describe();
    if (r.ok())
      caches_->services.AdoptWritten(svc->resource_version, json::parse(r.body, nullptr, false));
    spdlog::info("cleared status service={}", key);
  }
  for (const api::DaemonSetInfo& ds : daemonsets) {
    kube::Response r = client_->Request("delete", "DELETE",
                                        DsPath(ds.ns, ds.name) + "?propagationPolicy=Background");
    if (!r.ok() && r.status != 404) return "delete daemonset " + ds.name + ": " + r.Describe();
    spdlog::info("deleted daemonset={}/{} service={} reason={}", ds.ns, ds.name, key, Quote(why));
    if (svc != nullptr && r.ok()) {
      events_.Emit(*svc, "Normal", "DeletedDaemonSet",
                   "deleted DaemonSet " + ds.ns + "/" + ds.name + ": " + why);
    }
  }
  return "";
}

std::string Reconciler::ApplyDaemonSet(const api::Service& svc, const api::DaemonSet& desired,
                                       const std::vector<api::DaemonSetInfo>& existing) {
  std::string key = cache::ServiceKey(svc);
  // Stale DaemonSets of this Service name (an older UID, a renamed scheme) go first.
  std::vector<api::DaemonSetInfo> stale;
  const api::DaemonSetInfo* current = nullptr;
  for (const api::DaemonSetInfo& ds : existing) {
    if (ds.name == desired.name && ds.service_uid == svc.uid) {
      current = &ds;
    } else {
      stale.push_back(ds);
    }
  }
  if (std::string err = EnsureAbsent(key, &svc, stale, "stale DaemonSet of this Service");
      !err.empty()) {
    return err;
  }
  std::string hash = api::SpecHash(desired);
  auto applied = [&](const std::string& verb) {
    spdlog::info("{} daemonset={}/{} service={} hash={}", verb, desired.ns, desired.name, key,
                 hash);
    events_.Emit(svc, "Normal", "AppliedDaemonSet",
                 verb + " DaemonSet " + desired.ns + "/" + desired.name);
    return std::string();
  };
  std::string rv;
  if (current != nullptr) {
    if (current->spec_hash == hash) return "";  // nothing differs: no write
    rv = current->resource_version;
  } else {
    kube::Response r = client_->Request("create", "POST", DsPath(desired.ns),
                                        api::EncodeDaemonSet(desired).dump());
    if (r.ok()) return applied("created");
    if (r.status != 409) return "create daemonset " + desired.name + ": " + r.Describe();
    // Already there (the cache lags): fall through to a fresh read and an update.
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (rv.empty()) {
      kube::Response g = client_->Request("get", "GET", DsPath(desired.ns, desired.name));
      if (!g.ok()) return "get daemonset " + desired.name + ": " + g.Describe();
      auto info = api::DecodeDaemonSet(json::parse(g.body, nullptr, false));
      if (!info) return "get daemonset " + desired.name + ": " + info.error();
      if (info->service_uid != svc.uid) {
        return "DaemonSet " + desired.name + " exists but belongs to Service UID \"" +
               info->service_uid + "\"";
      }
      if (info->spec_hash == hash) return "";
      rv = info->resource_version;
    }
    kube::Response r = client_->Request("update", "PUT", DsPath(desired.ns, desired.name),
                                        api::EncodeDaemonSet(desired, rv).dump());
    if (r.ok()) return applied("updated");
    if (r.status != 409) return "update daemonset " + desired.name + ": " + r.Describe();
    rv.clear();  // conflict: re-read and try again
  }
  return "update daemonset " + desired.name + ": still conflicting after 3 attempts";
}

std::string Reconciler::WriteStatus(const api::Service& svc,
                                    const std::vector<std::string>& ingress) {
  if (svc.ingress == ingress && !svc.ingress_has_other_fields) return "";
  json list = json::array();
  for (const std::string& ip : ingress) list.push_back({{"ip", ip}});
  json patch = {{"metadata", {{"resourceVersion", svc.resource_version}}},
                {"status", {{"loadBalancer", {{"ingress", ingress.empty() ? json() : list}}}}}};
  kube::Response r = client_->Request(
      "patch", "PATCH", "/api/v1/namespaces/" + svc.ns + "/services/" + svc.name + "/status",
      patch.dump(), "application/merge-patch+json");
  if (r.status == 409) return "status conflict (Service changed); retrying";
  if (!r.ok()) return "patch status: " + r.Describe();
  caches_->services.AdoptWritten(svc.resource_version, json::parse(r.body, nullptr, false));
  std::string key = cache::ServiceKey(svc);
  spdlog::info("status service={} ingress={} previous={}", key, Join(ingress), Join(svc.ingress));
  if (ingress.empty()) {
    WarnOnce(svc, "UnavailableLoadBalancer",
             "no ready balancer pod; addresses " + Join(svc.ingress) + " removed");
  } else {
    ClearWarning(key, "UnavailableLoadBalancer");
    events_.Emit(svc, "Normal", "UpdatedLoadBalancer",
                 "addresses " + Join(svc.ingress) + " -> " + Join(ingress));
  }
  return "";
}

}  // namespace akrobateo::reconcile
