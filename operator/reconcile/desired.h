// SPDX-License-Identifier: Apache-2.0
// The desired balancer DaemonSet as a pure function of the Service, the node facts and the
// operator's options (docs/operator.md, "DaemonSet").
#ifndef AKROBATEO_OPERATOR_RECONCILE_DESIRED_H_
#define AKROBATEO_OPERATOR_RECONCILE_DESIRED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "operator/api/daemonset.h"
#include "operator/api/types.h"
#include "operator/base/result.h"
#include "operator/names.h"

namespace akrobateo::reconcile {

struct DaemonSetOptions {
  std::string ns;     // --namespace
  std::string image;  // --nftlb-image
  // --balancer-priority-class: the pods' priorityClassName unless a trusted Service's
  // annotation names another ("" for none).
  std::string priority_class{names::kDefaultPriorityClass};
};

struct DesiredDaemonSet {
  api::DaemonSet ds;
  // Problems the user should hear about (a Warning event) that do not stop the DaemonSet,
  // e.g. an invalid tolerations annotation.
  std::vector<std::string> warnings;
};

// Deterministic, <= 63 characters, a valid DNS label, unique per Service UID.
std::string DaemonSetName(const std::string& ns, const std::string& name, const std::string& uid);

// `any_node_enable_lb`: some node carries akrobateo.dev/enablelb=true. An error means the
// Service cannot be balanced at all (no cluster IP, no usable port); it names the reason.
Result<DesiredDaemonSet> BuildDaemonSet(const api::Service& svc, bool any_node_enable_lb,
                                        const DaemonSetOptions& opts);

// nftlb's readiness port for the Service's balancer pods: names::kReadyPort, or the next port
// up that none of the Service's ports (any protocol) uses.
int32_t ReadyPort(const api::Service& svc);

// Address family of an IP literal: 4, 6, or 0 when it is not one.
int IpFamily(const std::string& ip);

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_DESIRED_H_
