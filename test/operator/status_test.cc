// SPDX-License-Identifier: Apache-2.0
// The ingress list (docs/operator.md "Reconcile", step 5) and the address bugs of klipper-lb and
// Akrobateo (README.md, "Compared with klipper-lb and MetalLB").
#include "operator/reconcile/status.h"

#include <doctest/doctest.h>

#include "test/operator/service_builder.h"

using akrobateo::testing::LbService;
namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;
using Ips = std::vector<std::string>;

namespace {

api::Pod ReadyPod(const std::string& node, bool ready = true) {
  api::Pod p;
  p.ns = "akrobateo-system";
  p.name = "p-" + node;
  p.node_name = node;
  p.ready = ready;
  return p;
}

api::Node MakeNode(const std::string& name, Ips internal, Ips external = {}) {
  api::Node n;
  n.name = name;
  n.internal_ips = std::move(internal);
  n.external_ips = std::move(external);
  return n;
}

const auto kNow = std::chrono::system_clock::from_time_t(1796292000);

Ips Ingress(const api::Service& s, const std::vector<api::Pod>& pods,
            const std::vector<api::Node>& nodes,
            const std::vector<api::EndpointSlice>& slices = {}) {
  return rec::DesiredIngress(s, pods, nodes, slices, kNow).ingress;
}

// A pod whose Ready condition turned False `ago` before kNow.
api::Pod NotReadyPod(const std::string& node, std::chrono::seconds ago) {
  api::Pod p = ReadyPod(node, false);
  p.not_ready_since = kNow - ago;
  return p;
}

}  // namespace

TEST_CASE("Status: table of the documented behaviours") {
  api::Service v4 = LbService();
  api::Service dual = LbService();
  dual.cluster_ips = {"10.96.0.5", "fd00::5"};
  dual.ip_families = {"IPv4", "IPv6"};
  api::Service dual6 = dual;
  dual6.ip_families = {"IPv6", "IPv4"};
  api::Service v6 = LbService();
  v6.cluster_ips = {"fd00::5"};
  v6.ip_families = {"IPv6"};

  std::vector<api::Node> nodes = {
      MakeNode("n1", {"172.18.0.3", "fc00::3"}),
      MakeNode("n2", {"172.18.0.10", "fc00::10"}),
      MakeNode("n3", {"172.18.0.9", "fc00::9"}, {"203.0.113.9"}),
  };
  struct Case {
    const char* what;
    api::Service svc;
    std::vector<api::Pod> pods;
    Ips want;
  };
  std::vector<Case> cases = {
      {"no pods", v4, {}, {}},
      {"pods not ready", v4, {ReadyPod("n1", false), ReadyPod("n2", false)}, {}},
      {"unscheduled pod", v4, {ReadyPod("")}, {}},
      {"pod on an unknown node", v4, {ReadyPod("gone")}, {}},
      {"internal IPs sorted numerically",
       v4,
       {ReadyPod("n2"), ReadyPod("n1")},
       {"172.18.0.3", "172.18.0.10"}},
      // One node with an ExternalIP switches the whole list to ExternalIPs (k3s#2925).
      {"external wins globally", v4, {ReadyPod("n1"), ReadyPod("n3")}, {"203.0.113.9"}},
      {"only ready pods count", v4, {ReadyPod("n1"), ReadyPod("n3", false)}, {"172.18.0.3"}},
      {"single-stack IPv4 drops IPv6", v4, {ReadyPod("n1")}, {"172.18.0.3"}},
      {"single-stack IPv6 drops IPv4",
       v6,
       {ReadyPod("n1"), ReadyPod("n2")},
       {"fc00::3", "fc00::10"}},
      {"dual IPv4 first",
       dual,
       {ReadyPod("n2"), ReadyPod("n1")},
       {"172.18.0.3", "172.18.0.10", "fc00::3", "fc00::10"}},
      {"dual IPv6 first", dual6, {ReadyPod("n1")}, {"fc00::3", "172.18.0.3"}},
      {"duplicate pods on one node", v4, {ReadyPod("n1"), ReadyPod("n1")}, {"172.18.0.3"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    CHECK(Ingress(c.svc, c.pods, nodes) == c.want);
  }
}

TEST_CASE("Status: families default from the cluster IPs, then IPv4") {
  api::Service s = LbService();
  s.ip_families.clear();
  s.cluster_ips = {"fd00::1"};
  CHECK(rec::RequestedFamilies(s) == std::vector<int>{6});
  s.cluster_ips.clear();
  CHECK(rec::RequestedFamilies(s) == std::vector<int>{4});
}

TEST_CASE("Status: externalTrafficPolicy Local keeps nodes with a ready endpoint only") {
  api::Service s = LbService();
  s.external_traffic_local = true;
  std::vector<api::Node> nodes = {MakeNode("n1", {"172.18.0.3"}), MakeNode("n2", {"172.18.0.4"})};
  std::vector<api::Pod> pods = {ReadyPod("n1"), ReadyPod("n2")};
  api::EndpointSlice slice;
  slice.ns = "default";
  slice.name = "echo-x";
  slice.service_name = "echo";
  slice.ready_nodes = {"n2"};
  CHECK(Ingress(s, pods, nodes, {slice}) == Ips{"172.18.0.4"});
  CHECK(Ingress(s, pods, nodes).empty());
  s.external_traffic_local = false;  // Cluster policy ignores endpoints
  CHECK(Ingress(s, pods, nodes) == Ips{"172.18.0.3", "172.18.0.4"});
}

TEST_CASE("Status: garbage node addresses are dropped") {
  api::Service s = LbService();
  std::vector<api::Node> nodes = {MakeNode("n1", {"not-an-ip", "", "172.18.0.3", "999.1.1.1"})};
  CHECK(Ingress(s, {ReadyPod("n1")}, nodes) == Ips{"172.18.0.3"});
}

TEST_CASE("Status: a listed node stays through a short balancer restart, then goes") {
  using std::chrono::seconds;
  api::Service s = LbService();
  s.ingress = {"172.18.0.3", "172.18.0.4"};
  std::vector<api::Node> nodes = {MakeNode("n1", {"172.18.0.3"}), MakeNode("n2", {"172.18.0.4"})};

  rec::IngressDecision d =
      rec::DesiredIngress(s, {ReadyPod("n1"), NotReadyPod("n2", seconds(3))}, nodes, {}, kNow);
  CHECK(d.ingress == Ips{"172.18.0.3", "172.18.0.4"});
  // Looked at again when the hold runs out.
  CHECK(d.recheck_after == rec::kRestartHold - seconds(3));

  // Past the hold: the plain rule again, Ready pods only, nothing left to recheck.
  d = rec::DesiredIngress(s, {ReadyPod("n1"), NotReadyPod("n2", rec::kRestartHold)}, nodes, {},
                          kNow);
  CHECK(d.ingress == Ips{"172.18.0.3"});
  CHECK(d.recheck_after.count() == 0);

  // A node that was not listed is not added by a pod that is not Ready (a new pod starting).
  s.ingress = {"172.18.0.3"};
  CHECK(Ingress(s, {ReadyPod("n1"), NotReadyPod("n2", seconds(1))}, nodes) == Ips{"172.18.0.3"});

  // A pod being deleted has no not_ready_since (decode leaves the epoch): not held.
  s.ingress = {"172.18.0.3", "172.18.0.4"};
  CHECK(Ingress(s, {ReadyPod("n1"), ReadyPod("n2", false)}, nodes) == Ips{"172.18.0.3"});

  // A kubelet clock ahead of ours cannot stretch the hold beyond kRestartHold.
  d = rec::DesiredIngress(s, {NotReadyPod("n2", -seconds(60))}, nodes, {}, kNow);
  CHECK(d.ingress == Ips{"172.18.0.4"});
  CHECK(d.recheck_after == rec::kRestartHold);

  // externalTrafficPolicy Local still needs the node's ready endpoint.
  s.external_traffic_local = true;
  CHECK(Ingress(s, {ReadyPod("n1"), NotReadyPod("n2", seconds(1))}, nodes).empty());
}
