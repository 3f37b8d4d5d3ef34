// SPDX-License-Identifier: Apache-2.0
// Which Service ports the operator refuses to serve, and why (docs/security.md, "Reserved
// ports"). The ingress addresses are the nodes' own: a LoadBalancer port is reached as
// nodeIP:port, where kube-proxy (ipMode VIP) and the balancer's hostPort would take every
// connection meant for a daemon of the node (kubelet, sshd, etcd, ...) or for another
// Service's nodePort. So a port in the admin's reserved set (--reserved-ports) or equal to some
// other Service's nodePort (or healthCheckNodePort) is refused; the other ports are served.
#ifndef AKROBATEO_OPERATOR_RECONCILE_PORT_POLICY_H_
#define AKROBATEO_OPERATOR_RECONCILE_PORT_POLICY_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/types.h"
#include "operator/base/result.h"

namespace akrobateo::reconcile {

// A set of port numbers written as "22,2379-2381,6443,30000-32767" (every protocol).
class PortRanges {
 public:
  PortRanges() = default;
  // "" is the empty set. Bad input names the bad part: "2379-" or "70000".
  static Result<PortRanges> Parse(std::string_view text);
  bool Contains(int32_t port) const;
  bool empty() const { return ranges_.empty(); }
  // The canonical form: sorted, merged, "a-b" or "a".
  std::string ToString() const;
  bool operator==(const PortRanges&) const = default;

 private:
  std::vector<std::pair<int32_t, int32_t>> ranges_;  // sorted, disjoint, inclusive
};

// What the well-known port is on a Kubernetes node, or "" (for the refusal's message).
std::string_view NodeServiceOn(int32_t port);

// Port numbers that are some Service's nodePort or healthCheckNodePort: port -> "ns/name".
using NodePortOwners = std::map<int32_t, std::string>;

struct PortRefusal {
  api::ServicePort port;
  std::string reason;  // the Event's reason: kReservedPort or kNodePortInUse
  std::string error;   // status.loadBalancer.ingress[].ports[].error
  std::string note;    // what the tenant reads in the Event
  bool operator==(const PortRefusal&) const = default;
};

inline constexpr const char* kReservedPort = "ReservedPort";
inline constexpr const char* kNodePortInUse = "NodePortInUse";

// The ports of `svc` that are not served. `owners` may hold any ports; those of `svc` itself
// (`self`, "ns/name") do not count against it.
std::vector<PortRefusal> RefusedPorts(const api::Service& svc, const std::string& self,
                                      const PortRanges& reserved, const NodePortOwners& owners);

// True when the port is refused (the claim check's cheap form of RefusedPorts).
bool IsRefused(const api::ServicePort& port, const std::string& self, const PortRanges& reserved,
               const NodePortOwners& owners);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_PORT_POLICY_H_
