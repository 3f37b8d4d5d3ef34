// SPDX-License-Identifier: Apache-2.0
// Every label, annotation, field manager and default name the operator uses, declared once.
#ifndef AKROBATEO_OPERATOR_NAMES_H_
#define AKROBATEO_OPERATOR_NAMES_H_

#include <string_view>

#include "akrobateo/version.h"

namespace akrobateo::names {

// Labels on every DaemonSet and its pods.
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "akrobateo";
inline constexpr std::string_view kServiceNamespaceLabel = "akrobateo.dev/service-namespace";
inline constexpr std::string_view kServiceNameLabel = "akrobateo.dev/service-name";
inline constexpr std::string_view kServiceUidLabel = "akrobateo.dev/service-uid";

// Node and Service labels that select nodes.
inline constexpr std::string_view kEnableLbLabel = "akrobateo.dev/enablelb";
inline constexpr std::string_view kLbPoolLabel = "akrobateo.dev/lbpool";

// Service annotations.
inline constexpr std::string_view kTolerationsAnnotation = "akrobateo.dev/tolerations";
inline constexpr std::string_view kPriorityClassAnnotation = "akrobateo.dev/priority-class";

// Upstream's older Service annotation for loadBalancerSourceRanges (comma-separated).
inline constexpr std::string_view kLegacySourceRangesAnnotation =
    "service.beta.kubernetes.io/load-balancer-source-ranges";

// Control-plane taints every balancer DaemonSet tolerates (the older name too).
inline constexpr std::string_view kControlPlaneTaint = "node-role.kubernetes.io/control-plane";
inline constexpr std::string_view kMasterTaint = "node-role.kubernetes.io/master";

// DaemonSet annotation holding the hash of the spec the operator wrote (compare-then-write).
inline constexpr std::string_view kSpecHashAnnotation = "akrobateo.dev/spec-hash";

// EndpointSlice label naming its Service.
inline constexpr std::string_view kEndpointSliceServiceLabel = "kubernetes.io/service-name";

// Defaults.
inline constexpr std::string_view kDefaultNamespace = "akrobateo-system";
inline constexpr std::string_view kDefaultClass = "akrobateo.dev/nftlb";
// The balancer image of this release: akrobateo/nftlb:<project version> (docs/design.md).
inline constexpr std::string_view kDefaultImage = version::kNftlbImage;
inline constexpr std::string_view kDefaultPriorityClass = "system-node-critical";
inline constexpr std::string_view kContainerName = "nftlb";
// nftlb inside its image (nftlb/Dockerfile installs it there): the container's command and
// the readiness probes' executable.
inline constexpr std::string_view kNftlbPath = "/usr/local/bin/nftlb";
inline constexpr std::string_view kDaemonSetPrefix = "akrobateo-";
inline constexpr std::string_view kLeaseName = "akrobateo-operator";
inline constexpr std::string_view kReportingController = "akrobateo.dev/operator";
inline constexpr std::string_view kHostIpsEnv = "AKROBATEO_HOST_IPS";
inline constexpr std::string_view kInClusterNamespaceFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
inline constexpr std::string_view kInClusterTokenFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/token";
inline constexpr std::string_view kInClusterCaFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

}  // namespace akrobateo::names

#endif  // AKROBATEO_OPERATOR_NAMES_H_
