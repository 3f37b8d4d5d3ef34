// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/desired.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "operator/api/decode.h"
#include "operator/names.h"
#include "operator/reconcile/ingress.h"

namespace akrobateo::reconcile {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Target(int family, const std::string& addr, int32_t port) {
  return (family == 6 ? "[" + addr + "]" : addr) + ":" + std::to_string(port);
}

}  // namespace

int IpFamily(const std::string& ip) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return 4;
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) return 6;
  return 0;
}

int32_t ReadyPort(const api::Service& svc) {
  int32_t port = names::kReadyPort;
  // A Service has fewer ports than the 55k above kReadyPort, so this ends below 65536.
  auto taken = [&](int32_t p) {
    return std::any_of(svc.ports.begin(), svc.ports.end(),
                       [p](const api::ServicePort& sp) { return sp.port == p; });
  };
  while (taken(port)) ++port;
  return port;
}

std::string DaemonSetName(const std::string& ns, const std::string& name, const std::string& uid) {
  std::string suffix;
  for (char c : uid) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      suffix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (suffix.size() == 10) break;
  }
  std::string prefix(names::kDaemonSetPrefix);
  size_t budget = 63 - prefix.size() - 1 - suffix.size();
  std::string base = Lower(ns + "-" + name);
  for (char& c : base) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '-';
  }
  if (base.size() > budget) base.resize(budget);
  while (!base.empty() && base.back() == '-') base.pop_back();
  std::string out = prefix + base;
  if (!suffix.empty()) out += "-" + suffix;
  return out;
}

Result<DesiredDaemonSet> BuildDaemonSet(const api::Service& svc, bool any_node_enable_lb,
                                        const DaemonSetOptions& opts) {
  DesiredDaemonSet out;
  api::DaemonSet& ds = out.ds;
  ds.ns = opts.ns;
  ds.name = DaemonSetName(svc.ns, svc.name, svc.uid);
  ds.image = opts.image;
  ds.labels = {{std::string(names::kManagedByLabel), std::string(names::kManagedByValue)},
               {std::string(names::kServiceNamespaceLabel), svc.ns},
               {std::string(names::kServiceNameLabel), svc.name},
               {std::string(names::kServiceUidLabel), svc.uid}};
  ds.selector = {{std::string(names::kManagedByLabel), std::string(names::kManagedByValue)},
                 {std::string(names::kServiceUidLabel), svc.uid}};

  // Targets per family: the cluster IP of that family, or the node itself (Local policy).
  std::vector<int> families = RequestedFamilies(svc);
  std::vector<std::pair<int, std::string>> cluster_targets;
  for (int fam : families) {
    for (const std::string& ip : svc.cluster_ips) {
      if (IpFamily(ip) == fam) {
        cluster_targets.emplace_back(fam, ip);
        break;
      }
    }
  }
  if (cluster_targets.empty()) {
    return Error{"Service " + svc.ns + "/" + svc.name + " has no usable cluster IP"};
  }

  bool uses_node_target = false;
  for (const api::ServicePort& p : svc.ports) {
    if (p.port < 1 || p.port > 65535) continue;
    std::string proto = Lower(p.protocol);
    if (proto != "tcp" && proto != "udp" && proto != "sctp") continue;
    ds.ports.push_back({proto + "-" + std::to_string(p.port), p.port, p.protocol});
    bool local = svc.external_traffic_local && p.node_port > 0 && p.node_port <= 65535;
    const std::string head = "--forward=" + proto + "/" + std::to_string(p.port) + "=";
    if (local) {
      uses_node_target = true;
      for (const auto& [fam, ip] : cluster_targets) {
        ds.args.push_back(head + (fam == 6 ? "[node]" : "node") + ":" +
                          std::to_string(p.node_port));
      }
    } else {
      for (const auto& [fam, ip] : cluster_targets)
        ds.args.push_back(head + Target(fam, ip, p.port));
    }
  }
  if (ds.ports.empty()) {
    return Error{"Service " + svc.ns + "/" + svc.name + " has no usable port"};
  }
  if (uses_node_target) {
    ds.host_ips_env = true;
    // nftlb reads the variable itself, so that the args are the same words in the pod spec
    // and in `nftlb <args> --check` run by hand in the pod (docs/design.md).
    ds.args.push_back("--node-ips-env=" + std::string(names::kHostIpsEnv));
  }
  for (const std::string& range : svc.source_ranges) ds.args.push_back("--source-range=" + range);
  ds.ready_port = ReadyPort(svc);
  ds.args.push_back("--ready-port=" + std::to_string(ds.ready_port));
  for (const auto& [fam, ip] : cluster_targets) {
    if (fam == 6) ds.ipv6_forwarding_sysctl = true;
  }

  ds.tolerations = {
      {std::string(names::kControlPlaneTaint), "Exists", "", "NoSchedule", std::nullopt},
      {std::string(names::kMasterTaint), "Exists", "", "NoSchedule", std::nullopt},
      {"CriticalAddonsOnly", "Exists", "", "", std::nullopt},
  };
  if (svc.tolerations_json) {
    auto extra = api::ParseTolerations(*svc.tolerations_json);
    if (extra) {
      for (const api::Toleration& t : *extra) ds.tolerations.push_back(t);
    } else {
      out.warnings.push_back("annotation " + std::string(names::kTolerationsAnnotation) +
                             " ignored: " + extra.error());
    }
  }
  ds.priority_class = opts.priority_class;
  if (svc.priority_class) {
    if (api::IsDnsSubdomain(*svc.priority_class) || svc.priority_class->empty()) {
      ds.priority_class = *svc.priority_class;
    } else {
      out.warnings.push_back("annotation " + std::string(names::kPriorityClassAnnotation) +
                             " ignored: " + "\"" + api::Capped(*svc.priority_class, 100) +
                             "\" is not a PriorityClass name");
    }
  }
  if (any_node_enable_lb) ds.node_selector[std::string(names::kEnableLbLabel)] = "true";
  if (!svc.lb_pool.empty()) ds.node_selector[std::string(names::kLbPoolLabel)] = svc.lb_pool;
  return out;
}

}  // namespace akrobateo::reconcile
