// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/port_policy.h"

#include <algorithm>
#include <charconv>

#include "operator/names.h"

namespace akrobateo::reconcile {
namespace {

Result<int32_t> ParsePort(std::string_view s, std::string_view part) {
  int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < 1 || v > 65535) {
    return Error{"\"" + std::string(part) + "\" is not a port 1-65535 or a range of them",
                 ErrorKind::kInvalid};
  }
  return v;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return s;
}

}  // namespace

Result<PortRanges> PortRanges::Parse(std::string_view text) {
  PortRanges out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? text.size() : comma + 1;
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (part.empty()) continue;
    size_t dash = part.find('-');
    Result<int32_t> first = ParsePort(part.substr(0, dash), part);
    if (!first) return first.status();
    int32_t last = *first;
    if (dash != std::string_view::npos) {
      Result<int32_t> l = ParsePort(part.substr(dash + 1), part);
      if (!l) return l.status();
      last = *l;
    }
    if (last < *first) {
      return Error{"\"" + std::string(part) + "\" ends before it starts", ErrorKind::kInvalid};
    }
    out.ranges_.emplace_back(*first, last);
  }
  std::sort(out.ranges_.begin(), out.ranges_.end());
  std::vector<std::pair<int32_t, int32_t>> merged;
  for (const auto& r : out.ranges_) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  out.ranges_ = std::move(merged);
  return out;
}

bool PortRanges::Contains(int32_t port) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), std::make_pair(port, INT32_MAX));
  return it != ranges_.begin() && std::prev(it)->second >= port;
}

std::string PortRanges::ToString() const {
  std::string out;
  for (const auto& [a, b] : ranges_) {
    if (!out.empty()) out += ",";
    out += std::to_string(a);
    if (b != a) out += "-" + std::to_string(b);
  }
  return out;
}

std::string_view NodeServiceOn(int32_t port) {
  // The listening defaults of the node's own components (docs/security.md lists the sources).
  switch (port) {
    case 22:
      return "sshd";
    case 2379:
      return "etcd client";
    case 2380:
      return "etcd peer";
    case 2381:
      return "etcd metrics";
    case 6443:
      return "kube-apiserver";
    case 10248:
      return "kubelet healthz";
    case 10249:
      return "kube-proxy metrics";
    case 10250:
      return "kubelet";
    case 10255:
      return "kubelet read-only";
    case 10256:
      return "kube-proxy healthz";
    case 10257:
      return "kube-controller-manager";
    case 10258:
      return "cloud-controller-manager";
    case 10259:
      return "kube-scheduler";
    default:
      break;
  }
  if (port >= 30000 && port <= 32767) return "the default Service NodePort range";
  return "";
}

bool IsRefused(const api::ServicePort& port, const std::string& self, const PortRanges& reserved,
               const NodePortOwners& owners) {
  if (reserved.Contains(port.port)) return true;
  auto it = owners.find(port.port);
  return it != owners.end() && it->second != self;
}

std::vector<PortRefusal> RefusedPorts(const api::Service& svc, const std::string& self,
                                      const PortRanges& reserved, const NodePortOwners& owners) {
  std::vector<PortRefusal> out;
  for (const api::ServicePort& p : svc.ports) {
    std::string what = Upper(p.protocol) + "/" + std::to_string(p.port);
    if (reserved.Contains(p.port)) {
      std::string_view use = NodeServiceOn(p.port);
      out.push_back({p, kReservedPort, std::string(names::kPortErrorReserved),
                     "port " + what + " is not served: it is reserved for the nodes' own services" +
                         (use.empty() ? std::string() : " (" + std::string(use) + ")") +
                         " by the cluster admin (--reserved-ports)"});
      continue;
    }
    auto it = owners.find(p.port);
    if (it != owners.end() && it->second != self) {
      out.push_back({p, kNodePortInUse, std::string(names::kPortErrorNodePort),
                     "port " + what + " is not served: it is the nodePort of Service " +
                         it->second + " on every node"});
    }
  }
  return out;
}

}  // namespace akrobateo::reconcile
