// SPDX-License-Identifier: Apache-2.0
// The six caches the operator reads: Services and Nodes and EndpointSlices cluster-wide;
// balancer DaemonSets and pods in the operator namespace (label-selected), and there the
// DaemonSet controller's FailedCreate Events (field-selected), which say why a balancer pod
// could not be created.
#ifndef AKROBATEO_OPERATOR_CACHE_CACHES_H_
#define AKROBATEO_OPERATOR_CACHE_CACHES_H_

#include <string>

#include "operator/api/decode.h"
#include "operator/cache/informer.h"
#include "operator/kube/client.h"

namespace akrobateo::cache {

inline std::string NsName(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}
inline std::string ServiceKey(const api::Service& s) {
  return NsName(s.ns, s.name);
}
inline std::string NodeKey(const api::Node& n) {
  return n.name;
}
inline std::string PodKey(const api::Pod& p) {
  return NsName(p.ns, p.name);
}
inline std::string SliceKey(const api::EndpointSlice& e) {
  return NsName(e.ns, e.name);
}
inline std::string DaemonSetKey(const api::ObservedDaemonSet& d) {
  return NsName(d.ns, d.name);
}
inline std::string PodCreateFailureKey(const api::PodCreateFailure& f) {
  return NsName(f.ns, f.name);
}

// The secondary indexes (Store::ByIndex): what a reconcile of one Service reads.
// Balancer pods by the UID of their Service (label akrobateo.dev/service-uid).
inline std::string PodServiceUid(const api::Pod& p) {
  return p.service_uid;
}
// Balancer DaemonSets by "namespace/name" of their Service (labels akrobateo.dev/service-*), so
// that those of an older Service of the same name are found too.
inline std::string DaemonSetService(const api::ObservedDaemonSet& d) {
  return d.service_ns.empty() || d.service_name.empty() ? std::string()
                                                        : NsName(d.service_ns, d.service_name);
}
// FailedCreate Events by the UID of the DaemonSet they are about.
inline std::string PodCreateFailureDaemonSet(const api::PodCreateFailure& f) {
  return f.daemonset_uid;
}
// EndpointSlices by "namespace/name" of their Service (label kubernetes.io/service-name).
inline std::string SliceService(const api::EndpointSlice& e) {
  return e.service_name.empty() ? std::string() : NsName(e.ns, e.service_name);
}

class Caches {
 public:
  Caches(kube::Client* client, metrics::Metrics* metrics, const std::string& ns,
         const std::string& managed_selector)
      : services(client, metrics, "services", "/api/v1/services", "", &api::DecodeService,
                 &ServiceKey),
        nodes(client, metrics, "nodes", "/api/v1/nodes", "", &api::DecodeNode, &NodeKey),
        slices(client, metrics, "endpointslices", "/apis/discovery.k8s.io/v1/endpointslices", "",
               &api::DecodeEndpointSlice, &SliceKey, &SliceService),
        daemonsets(client, metrics, "daemonsets", "/apis/apps/v1/namespaces/" + ns + "/daemonsets",
                   "labelSelector=" + kube::QueryEscape(managed_selector), &api::DecodeDaemonSet,
                   &DaemonSetKey, &DaemonSetService),
        pods(client, metrics, "pods", "/api/v1/namespaces/" + ns + "/pods",
             "labelSelector=" + kube::QueryEscape(managed_selector), &api::DecodePod, &PodKey,
             &PodServiceUid),
        create_failures(client, metrics, "events", "/api/v1/namespaces/" + ns + "/events",
                        "fieldSelector=" +
                            kube::QueryEscape("involvedObject.kind=DaemonSet,reason=FailedCreate"),
                        &api::DecodePodCreateFailure, &PodCreateFailureKey,
                        &PodCreateFailureDaemonSet) {}

  void Start() {
    services.Start();
    nodes.Start();
    slices.Start();
    daemonsets.Start();
    pods.Start();
    create_failures.Start();
  }
  void Stop() {
    services.Stop();
    nodes.Stop();
    slices.Stop();
    daemonsets.Stop();
    pods.Stop();
    create_failures.Stop();
  }
  bool Synced() const {
    return services.Synced() && nodes.Synced() && slices.Synced() && daemonsets.Synced() &&
           pods.Synced() && create_failures.Synced();
  }

  Informer<api::Service> services;
  Informer<api::Node> nodes;
  Informer<api::EndpointSlice> slices;
  Informer<api::ObservedDaemonSet> daemonsets;
  Informer<api::Pod> pods;
  Informer<api::PodCreateFailure> create_failures;
};

}  // namespace akrobateo::cache

#endif  // AKROBATEO_OPERATOR_CACHE_CACHES_H_
