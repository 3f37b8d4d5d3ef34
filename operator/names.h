// SPDX-License-Identifier: Apache-2.0
// Every label, annotation, field manager and default name the operator uses, declared once.
#ifndef AKROBATEO_OPERATOR_NAMES_H_
#define AKROBATEO_OPERATOR_NAMES_H_

#include <cstddef>
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
// Set by the DaemonSet controller on each pod: the DaemonSet generation its template came from.
inline constexpr std::string_view kPodTemplateGenerationLabel = "pod-template-generation";

// The upstream service controller's finalizer on LoadBalancer Services: set before the
// balancer is made, removed once it is gone, so that a deleted Service waits for its DaemonSet.
inline constexpr std::string_view kCleanupFinalizer = "service.kubernetes.io/load-balancer-cleanup";

// Defaults.
inline constexpr std::string_view kDefaultNamespace = "akrobateo-system";
inline constexpr std::string_view kDefaultClass = "akrobateo.dev/nftlb";
// The balancer image of this release: akrobateo/nftlb:<project version> (docs/design.md).
inline constexpr std::string_view kDefaultImage = version::kNftlbImage;
// The balancer pods' priorityClassName when the operator is run without
// --balancer-priority-class: none (priority 0, which preempts nobody). deploy/ names its own
// class, kBalancerPriorityClass (value 1000000, preemptionPolicy Never; docs/security.md).
inline constexpr std::string_view kDefaultPriorityClass = "";
inline constexpr std::string_view kBalancerPriorityClass = "akrobateo-balancer";
// Ports no LoadBalancer Service may take (--reserved-ports): what nodes and control planes
// listen on by default, and the API server's default Service NodePort range (port_policy.h).
inline constexpr std::string_view kDefaultReservedPorts =
    "22,2379-2381,6443,10248-10260,30000-32767";
// status.loadBalancer.ingress[].ports[].error of a refused port (a qualified name).
inline constexpr std::string_view kPortErrorReserved = "akrobateo.dev/ReservedPort";
inline constexpr std::string_view kPortErrorNodePort = "akrobateo.dev/NodePortInUse";
// Longest note of an Event the operator posts (the events.k8s.io API refuses notes of 1 KiB
// and more) and longest error text in a log line.
inline constexpr size_t kMaxEventNote = 1000;
inline constexpr size_t kMaxLoggedError = 2048;
// Longest akrobateo.dev/tolerations annotation read; a longer one is refused whole.
inline constexpr size_t kMaxTolerationsAnnotation = 8192;
inline constexpr std::string_view kContainerName = "nftlb";
// nftlb inside its image (nftlb/Dockerfile installs it there): the container's command.
inline constexpr std::string_view kNftlbPath = "/usr/local/bin/nftlb";
// nftlb's readiness port in the balancer pod's network namespace (--ready-port; no hostPort), the
// target of the pod's tcpSocket readiness probe: this one, or the next one up that no port of the
// Service uses (the pod's own table forwards those).
inline constexpr int kReadyPort = 9901;
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
