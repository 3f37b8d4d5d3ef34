// SPDX-License-Identifier: Apache-2.0
// The DaemonSet the operator writes, as a value type, and its encoder to API JSON. The spec hash
// (over the encoded object) is stored as an annotation so that an unchanged desired DaemonSet
// is never written again.
#ifndef AKROBATEO_OPERATOR_API_DAEMONSET_H_
#define AKROBATEO_OPERATOR_API_DAEMONSET_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "operator/api/types.h"

namespace akrobateo::api {

struct ContainerPort {
  std::string name;
  int32_t port = 0;
  std::string protocol;
  bool operator==(const ContainerPort&) const = default;
};

struct DaemonSet {
  std::string ns;
  std::string name;
  std::map<std::string, std::string> labels;  // on the DaemonSet and its pods
  std::map<std::string, std::string> selector;
  std::string image;
  std::vector<std::string> args;
  std::vector<ContainerPort> ports;
  bool host_ips_env = false;  // env AKROBATEO_HOST_IPS from status.hostIPs
  // nftlb's --ready-port (in args too): the readiness probe's tcpSocket port; 0: no probe.
  int32_t ready_port = 0;
  std::vector<Toleration> tolerations;
  std::string priority_class;  // empty: none
  std::map<std::string, std::string> node_selector;
  bool ipv6_forwarding_sysctl = false;
  bool operator==(const DaemonSet&) const = default;
};

// The full apps/v1 DaemonSet object, including the spec-hash annotation. `resource_version`
// is set when non-empty (for update).
nlohmann::json EncodeDaemonSet(const DaemonSet& ds, const std::string& resource_version = "");

// Hex digest identifying everything the operator controls in the DaemonSet.
std::string SpecHash(const DaemonSet& ds);

}  // namespace akrobateo::api

#endif  // AKROBATEO_OPERATOR_API_DAEMONSET_H_
