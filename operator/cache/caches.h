// The five caches the operator reads: Services and Nodes and EndpointSlices cluster-wide,
// balancer DaemonSets and pods in the operator namespace (label-selected).
#pragma once

#include <string>

#include "operator/api/decode.h"
#include "operator/cache/informer.h"

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
inline std::string DaemonSetKey(const api::DaemonSetInfo& d) {
  return NsName(d.ns, d.name);
}

class Caches {
 public:
  Caches(kube::Client* client, metrics::Metrics* metrics, const std::string& ns,
         const std::string& managed_selector)
      : services(client, metrics, "services", "/api/v1/services", "", &api::DecodeService,
                 &ServiceKey),
        nodes(client, metrics, "nodes", "/api/v1/nodes", "", &api::DecodeNode, &NodeKey),
        slices(client, metrics, "endpointslices", "/apis/discovery.k8s.io/v1/endpointslices", "",
               &api::DecodeEndpointSlice, &SliceKey),
        daemonsets(client, metrics, "daemonsets", "/apis/apps/v1/namespaces/" + ns + "/daemonsets",
                   managed_selector, &api::DecodeDaemonSet, &DaemonSetKey),
        pods(client, metrics, "pods", "/api/v1/namespaces/" + ns + "/pods", managed_selector,
             &api::DecodePod, &PodKey) {}

  void Start() {
    services.Start();
    nodes.Start();
    slices.Start();
    daemonsets.Start();
    pods.Start();
  }
  void Stop() {
    services.Stop();
    nodes.Stop();
    slices.Stop();
    daemonsets.Stop();
    pods.Stop();
  }
  bool Synced() const {
    return services.Synced() && nodes.Synced() && slices.Synced() && daemonsets.Synced() &&
           pods.Synced();
  }

  Informer<api::Service> services;
  Informer<api::Node> nodes;
  Informer<api::EndpointSlice> slices;
  Informer<api::DaemonSetInfo> daemonsets;
  Informer<api::Pod> pods;
};

}  // namespace akrobateo::cache
