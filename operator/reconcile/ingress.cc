// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/ingress.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "operator/reconcile/desired.h"

namespace akrobateo::reconcile {
namespace {

// Numeric order within a family, so that 10.0.0.9 sorts before 10.0.0.10.
std::vector<std::string> SortedUnique(int family, const std::set<std::string>& ips) {
  std::vector<std::pair<std::array<unsigned char, 16>, std::string>> keyed;
  for (const std::string& ip : ips) {
    std::array<unsigned char, 16> key{};
    if (inet_pton(family == 4 ? AF_INET : AF_INET6, ip.c_str(), key.data()) != 1) continue;
    keyed.emplace_back(key, ip);
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> out;
  for (auto& [key, ip] : keyed) {
    if (out.empty() || out.back() != ip) out.push_back(ip);
  }
  return out;
}

}  // namespace

std::vector<int> RequestedFamilies(const api::Service& svc) {
  std::vector<int> out;
  for (const std::string& f : svc.ip_families) {
    int fam = f == "IPv4" ? 4 : f == "IPv6" ? 6 : 0;
    if (fam != 0 && std::find(out.begin(), out.end(), fam) == out.end()) out.push_back(fam);
  }
  if (out.empty()) {
    for (const std::string& ip : svc.cluster_ips) {
      int fam = IpFamily(ip);
      if (fam != 0 && std::find(out.begin(), out.end(), fam) == out.end()) out.push_back(fam);
    }
  }
  if (out.empty()) out.push_back(4);
  return out;
}

IngressDecision DesiredIngress(const api::Service& svc, const std::vector<api::Pod>& pods,
                               const std::vector<api::Node>& nodes,
                               const std::vector<api::EndpointSlice>& slices,
                               std::chrono::system_clock::time_point now,
                               int64_t daemonset_generation) {
  std::map<std::string, int> local_endpoints;  // node -> ready endpoints on it
  if (svc.external_traffic_local) {
    for (const api::EndpointSlice& s : slices) {
      for (const std::string& n : s.ready_nodes) ++local_endpoints[n];
    }
  }
  std::unordered_map<std::string, const api::Node*> by_name;
  for (const api::Node& n : nodes) by_name[n.name] = &n;
  const std::set<std::string> listed(svc.ingress.begin(), svc.ingress.end());
  auto is_listed = [&listed](const api::Node& n) {
    for (const auto* ips : {&n.external_ips, &n.internal_ips}) {
      for (const std::string& ip : *ips) {
        if (listed.count(ip) != 0) return true;
      }
    }
    return false;
  };

  IngressDecision out;
  // One global choice: ExternalIPs if any chosen node has one, else InternalIPs.
  std::set<std::string> external, internal;
  std::map<std::string, int> endpoints_at;  // address -> ready endpoints on its node (Local)
  // Local with no ready endpoint anywhere: no node can answer, and none is better than another;
  // every balancer node is listed, as under Cluster, so that the Service has its address before
  // its first endpoint, as a cloud load balancer's would (docs/design.md, "Local before the
  // first endpoint").
  const bool by_endpoints = svc.external_traffic_local && !local_endpoints.empty();
  for (const api::Pod& p : pods) {
    if (p.node_name.empty()) continue;
    if (by_endpoints && local_endpoints.count(p.node_name) == 0) continue;
    auto it = by_name.find(p.node_name);
    if (it == by_name.end()) continue;
    if (!p.ready) {
      // Held only when its node is listed and, less than kRestartHold ago, the pod turned (or
      // was created) not Ready, or was deleted: by a DaemonSet update that puts its successor
      // on the same node, or otherwise (kubectl delete pod, an eviction, the node leaving the
      // pool) while the Service's ipMode is VIP, under which kube-proxy answers on the node's
      // address for as long as it is listed. With ipMode Proxy only the balancer answers there,
      // and a deleted one has removed its table: such a delete is not held.
      std::chrono::system_clock::time_point since = p.not_ready_since;
      if (p.deleting_since != std::chrono::system_clock::time_point{}) {
        const bool replaced =
            p.template_generation > 0 && p.template_generation < daemonset_generation;
        const bool vip = svc.ingress_ip_mode.empty();
        since = replaced || vip ? p.deleting_since : std::chrono::system_clock::time_point{};
      }
      if (since == std::chrono::system_clock::time_point{}) continue;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(since + kRestartHold - now);
      if (left <= std::chrono::milliseconds(0) || !is_listed(*it->second)) continue;
      // Clock skew between the kubelet and here cannot hold a node longer than kRestartHold.
      left = std::min<std::chrono::milliseconds>(left, kRestartHold);
      if (out.recheck_after.count() == 0 || left < out.recheck_after) out.recheck_after = left;
    }
    external.insert(it->second->external_ips.begin(), it->second->external_ips.end());
    internal.insert(it->second->internal_ips.begin(), it->second->internal_ips.end());
    if (by_endpoints) {
      int n = local_endpoints[p.node_name];
      for (const auto* ips : {&it->second->external_ips, &it->second->internal_ips}) {
        for (const std::string& ip : *ips) endpoints_at[ip] = std::max(endpoints_at[ip], n);
      }
    }
  }
  const std::set<std::string>& chosen = external.empty() ? internal : external;

  for (int fam : RequestedFamilies(svc)) {
    std::set<std::string> of_family;
    for (const std::string& ip : chosen) {
      if (IpFamily(ip) == fam) of_family.insert(ip);
    }
    std::vector<std::string> ordered = SortedUnique(fam, of_family);
    // The family's first address now keeps its place: a node that joins later (a lower address
    // whose balancer became Ready second) does not push it down.
    std::string first;
    for (const std::string& ip : svc.ingress) {
      if (IpFamily(ip) == fam) {
        first = ip;
        break;
      }
    }
    auto endpoints = [&endpoints_at](const std::string& ip) {
      auto e = endpoints_at.find(ip);
      return e == endpoints_at.end() ? 0 : e->second;
    };
    std::stable_sort(ordered.begin(), ordered.end(),
                     [&](const std::string& a, const std::string& b) {
                       return std::make_tuple(-endpoints(a), a != first) <
                              std::make_tuple(-endpoints(b), b != first);
                     });
    for (std::string& ip : ordered) out.ingress.push_back(std::move(ip));
  }
  return out;
}

}  // namespace akrobateo::reconcile
