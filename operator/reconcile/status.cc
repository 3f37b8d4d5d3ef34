// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/status.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <set>
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
                               std::chrono::system_clock::time_point now) {
  std::set<std::string> local_nodes;
  if (svc.external_traffic_local) {
    for (const api::EndpointSlice& s : slices) {
      local_nodes.insert(s.ready_nodes.begin(), s.ready_nodes.end());
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
  for (const api::Pod& p : pods) {
    if (p.node_name.empty()) continue;
    if (svc.external_traffic_local && local_nodes.count(p.node_name) == 0) continue;
    auto it = by_name.find(p.node_name);
    if (it == by_name.end()) continue;
    if (!p.ready) {
      // Held only when it was counted before, is not being deleted (not_ready_since is then the
      // epoch) and turned not Ready less than kRestartHold ago.
      if (p.not_ready_since == std::chrono::system_clock::time_point{}) continue;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(p.not_ready_since +
                                                                        kRestartHold - now);
      if (left <= std::chrono::milliseconds(0) || !is_listed(*it->second)) continue;
      // Clock skew between the kubelet and here cannot hold a node longer than kRestartHold.
      left = std::min<std::chrono::milliseconds>(left, kRestartHold);
      if (out.recheck_after.count() == 0 || left < out.recheck_after) out.recheck_after = left;
    }
    external.insert(it->second->external_ips.begin(), it->second->external_ips.end());
    internal.insert(it->second->internal_ips.begin(), it->second->internal_ips.end());
  }
  const std::set<std::string>& chosen = external.empty() ? internal : external;

  for (int fam : RequestedFamilies(svc)) {
    std::set<std::string> of_family;
    for (const std::string& ip : chosen) {
      if (IpFamily(ip) == fam) of_family.insert(ip);
    }
    for (std::string& ip : SortedUnique(fam, of_family)) out.ingress.push_back(std::move(ip));
  }
  return out;
}

}  // namespace akrobateo::reconcile
