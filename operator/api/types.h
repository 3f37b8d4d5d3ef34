// SPDX-License-Identifier: Apache-2.0
// Trimmed, typed copies of the Kubernetes objects the operator caches. Only the fields the
// operator reads are kept; raw JSON is never stored (memory footprint: see docs/operator.md).
#ifndef AKROBATEO_OPERATOR_API_TYPES_H_
#define AKROBATEO_OPERATOR_API_TYPES_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace akrobateo::api {

struct ServicePort {
  std::string name;
  std::string protocol;  // "TCP", "UDP" or "SCTP"; defaulted to TCP when absent
  int32_t port = 0;
  int32_t node_port = 0;
  bool operator==(const ServicePort&) const = default;
};

// One entry of status.loadBalancer.ingress[].ports (KEP-1435): the state of one Service port on
// the published addresses; `error` empty when it is served.
struct IngressPort {
  int32_t port = 0;
  std::string protocol;
  std::string error;
  bool operator==(const IngressPort&) const = default;
};

// What the operator writes into status.loadBalancer: one entry per address, each with the same
// ports and ipMode.
struct LoadBalancerStatus {
  std::vector<std::string> ips;    // empty clears the status
  std::vector<IngressPort> ports;  // empty when every port is served
  std::string ip_mode;             // "" (the API's default, VIP) or "Proxy"
  bool operator==(const LoadBalancerStatus&) const = default;
};

struct Service {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;       // RFC 3339; orders Services for port conflicts
  bool being_deleted = false;           // metadata.deletionTimestamp is set
  std::vector<std::string> finalizers;  // metadata.finalizers
  std::string type;
  std::optional<std::string> load_balancer_class;
  std::vector<std::string> cluster_ips;  // spec.clusterIPs (or clusterIP); "None" dropped
  std::vector<std::string> ip_families;  // "IPv4" / "IPv6", in spec order
  std::vector<ServicePort> ports;
  // Every nodePort and the healthCheckNodePort of the Service, whatever its type: the nodes
  // listen on them, so no LoadBalancer port may take one (port_policy.h).
  std::vector<int32_t> node_ports;
  std::optional<std::string> load_balancer_ip;  // spec.loadBalancerIP (not honoured: warned)
  bool external_traffic_local = false;
  std::vector<std::string> source_ranges;
  std::string lb_pool;                          // label akrobateo.dev/lbpool
  std::optional<std::string> tolerations_json;  // annotation akrobateo.dev/tolerations
  std::optional<std::string> priority_class;    // annotation akrobateo.dev/priority-class
  std::vector<std::string> ingress;             // status.loadBalancer.ingress[].ip
  std::vector<IngressPort> ingress_ports;       // ports of the first entry
  std::string ingress_ip_mode;                  // ipMode of the first entry; "" for VIP
  bool ingress_has_other_fields = false;        // hostname, ipMode, or ports that differ per entry
  bool operator==(const Service&) const = default;
};

struct Node {
  std::string name;
  bool enable_lb = false;  // label akrobateo.dev/enablelb=true
  std::vector<std::string> internal_ips;
  std::vector<std::string> external_ips;
  bool operator==(const Node&) const = default;
};

// A balancer pod (only pods carrying the managed-by label are watched).
inline constexpr size_t kMaxSchedulerMessage = 256;
struct Pod {
  std::string ns;
  std::string name;
  std::string service_ns;
  std::string service_name;
  std::string service_uid;
  std::string node_name;
  bool ready = false;
  // While the pod is not Ready and not being deleted: since when (the Ready condition's
  // lastTransitionTime; the pod's creation while it has no Ready condition yet). The epoch
  // otherwise.
  std::chrono::system_clock::time_point not_ready_since{};
  // While the pod is being deleted: when the delete was asked for (deletionTimestamp minus
  // deletionGracePeriodSeconds). The epoch otherwise.
  std::chrono::system_clock::time_point deleting_since{};
  int64_t template_generation = 0;  // label pod-template-generation (the DaemonSet controller's)
  // PodScheduled False/Unschedulable: the scheduler's message (at most kMaxSchedulerMessage
  // bytes) and the node the DaemonSet controller aimed the pod at (its node affinity). Empty
  // for every other pod, so the cache stays small.
  bool unschedulable = false;
  std::string scheduler_message;
  std::string target_node;
  bool operator==(const Pod&) const = default;
};

struct EndpointSlice {
  std::string ns;
  std::string name;
  std::string service_name;  // label kubernetes.io/service-name
  // nodeName of each ready endpoint, sorted; a node appears once per endpoint on it.
  std::vector<std::string> ready_nodes;
  bool operator==(const EndpointSlice&) const = default;
};

// A DaemonSet the operator manages, as seen in the API.
struct ObservedDaemonSet {
  std::string ns;
  std::string name;
  std::string uid;
  std::string resource_version;
  std::string service_ns;
  std::string service_name;
  std::string service_uid;
  std::string spec_hash;  // annotation akrobateo.dev/spec-hash
  int64_t generation = 0;
  int64_t observed_generation = 0;
  int64_t desired_scheduled = 0;
  int64_t current_scheduled = 0;  // nodes that run a pod of it (created, any phase)
  int64_t number_ready = 0;
  bool operator==(const ObservedDaemonSet&) const = default;
};

// Why the DaemonSet controller could not create a balancer pod: its Event of reason FailedCreate
// on a balancer DaemonSet (in the operator namespace), e.g. a ResourceQuota or the namespace's
// Pod Security refusing the pod. Only the fields a Warning on the Service quotes.
inline constexpr size_t kMaxCreateFailureMessage = 512;
struct PodCreateFailure {
  std::string ns;
  std::string name;           // the Event's
  std::string daemonset_uid;  // involvedObject.uid
  std::string message;        // at most kMaxCreateFailureMessage bytes
  // lastTimestamp, else eventTime, else the epoch: the newest Event of a DaemonSet is quoted.
  std::chrono::system_clock::time_point last_seen{};
  bool operator==(const PodCreateFailure&) const = default;
};

struct Lease {
  std::string resource_version;
  std::string holder;
  int64_t lease_duration_seconds = 0;
  std::string renew_time;  // MicroTime as written by the holder
  int64_t transitions = 0;
};

// One toleration as written into the pod spec.
struct Toleration {
  std::string key;
  std::string op;  // "Exists" or "Equal"
  std::string value;
  std::string effect;
  std::optional<int64_t> seconds;
  bool operator==(const Toleration&) const = default;
};

}  // namespace akrobateo::api

#endif  // AKROBATEO_OPERATOR_API_TYPES_H_
