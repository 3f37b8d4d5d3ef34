// SPDX-License-Identifier: Apache-2.0
// The ingress list (docs/operator.md "Reconcile", step 5) and the address bugs of klipper-lb and
// Akrobateo (README.md, "Compared with klipper-lb and MetalLB").
#include "operator/reconcile/ingress.h"

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

TEST_CASE("Ingress: table of the documented behaviours") {
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

TEST_CASE("Ingress: families default from the cluster IPs, then IPv4") {
  api::Service s = LbService();
  s.ip_families.clear();
  s.cluster_ips = {"fd00::1"};
  CHECK(rec::RequestedFamilies(s) == std::vector<int>{6});
  s.cluster_ips.clear();
  CHECK(rec::RequestedFamilies(s) == std::vector<int>{4});
}

TEST_CASE("Ingress: externalTrafficPolicy Local keeps nodes with a ready endpoint only") {
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
  // No ready endpoint anywhere: every balancer node, so that the address exists before the
  // first endpoint does (none of them answers yet).
  CHECK(Ingress(s, pods, nodes) == Ips{"172.18.0.3", "172.18.0.4"});
  slice.ready_nodes.clear();
  CHECK(Ingress(s, pods, nodes, {slice}) == Ips{"172.18.0.3", "172.18.0.4"});
  s.external_traffic_local = false;  // Cluster policy ignores endpoints
  CHECK(Ingress(s, pods, nodes) == Ips{"172.18.0.3", "172.18.0.4"});
}

TEST_CASE("Ingress: garbage node addresses are dropped") {
  api::Service s = LbService();
  std::vector<api::Node> nodes = {MakeNode("n1", {"not-an-ip", "", "172.18.0.3", "999.1.1.1"})};
  CHECK(Ingress(s, {ReadyPod("n1")}, nodes) == Ips{"172.18.0.3"});
}

TEST_CASE("Ingress: a listed node stays through a short balancer restart, then goes") {
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

  // A pod being deleted has no not_ready_since (decode leaves the epoch): not held, unless a
  // DaemonSet update replaces it (below).
  s.ingress = {"172.18.0.3", "172.18.0.4"};
  CHECK(Ingress(s, {ReadyPod("n1"), ReadyPod("n2", false)}, nodes) == Ips{"172.18.0.3"});

  // A kubelet clock ahead of ours cannot stretch the hold beyond kRestartHold.
  d = rec::DesiredIngress(s, {NotReadyPod("n2", -seconds(60))}, nodes, {}, kNow);
  CHECK(d.ingress == Ips{"172.18.0.4"});
  CHECK(d.recheck_after == rec::kRestartHold);

  // externalTrafficPolicy Local still needs the node's ready endpoint.
  s.external_traffic_local = true;
  api::EndpointSlice on_n1;
  on_n1.service_name = "echo";
  on_n1.ready_nodes = {"n1"};
  CHECK(Ingress(s, {ReadyPod("n1"), NotReadyPod("n2", seconds(1))}, nodes, {on_n1}) ==
        Ips{"172.18.0.3"});
}

namespace {

// A pod of template generation `generation` whose delete was asked for `ago` before kNow.
api::Pod DeletingPod(const std::string& node, int64_t generation, std::chrono::seconds ago) {
  api::Pod p = ReadyPod(node, false);
  p.template_generation = generation;
  p.deleting_since = kNow - ago;
  return p;
}

}  // namespace

TEST_CASE("Ingress: a listed node stays while a DaemonSet update replaces its pod, then goes") {
  using std::chrono::seconds;
  api::Service s = LbService();
  s.ingress = {"172.18.0.3", "172.18.0.4"};
  // ipMode Proxy (a refused port): only the update is held, not any other delete (below).
  s.ingress_ip_mode = "Proxy";
  std::vector<api::Node> nodes = {MakeNode("n1", {"172.18.0.3"}), MakeNode("n2", {"172.18.0.4"})};
  // The DaemonSet is at generation 2; n1's pod of generation 1 is being deleted for the update.
  rec::IngressDecision d = rec::DesiredIngress(
      s, {DeletingPod("n1", 1, seconds(2)), ReadyPod("n2")}, nodes, {}, kNow, 2);
  CHECK(d.ingress == Ips{"172.18.0.3", "172.18.0.4"});
  CHECK(d.recheck_after == rec::kRestartHold - seconds(2));
  // Its successor, created and not Ready yet, holds the node from its own start.
  d = rec::DesiredIngress(s, {NotReadyPod("n1", seconds(1)), ReadyPod("n2")}, nodes, {}, kNow, 2);
  CHECK(d.ingress == Ips{"172.18.0.3", "172.18.0.4"});
  // An update that takes longer than the hold: the node goes.
  d = rec::DesiredIngress(s, {DeletingPod("n1", 1, rec::kRestartHold), ReadyPod("n2")}, nodes, {},
                          kNow, 2);
  CHECK(d.ingress == Ips{"172.18.0.4"});
  // Under ipMode Proxy, a delete that is no update (kubectl delete pod, the node left the pool:
  // the pod's template is current) is not held: nothing but the balancer answers there.
  d = rec::DesiredIngress(s, {DeletingPod("n1", 2, seconds(1)), ReadyPod("n2")}, nodes, {}, kNow,
                          2);
  CHECK(d.ingress == Ips{"172.18.0.4"});
  // Generation unknown (no DaemonSet seen, or a pod without the label): no update either.
  CHECK(rec::DesiredIngress(s, {DeletingPod("n1", 1, seconds(1)), ReadyPod("n2")}, nodes, {}, kNow)
            .ingress == Ips{"172.18.0.4"});
  CHECK(
      rec::DesiredIngress(s, {DeletingPod("n1", 0, seconds(1)), ReadyPod("n2")}, nodes, {}, kNow, 2)
          .ingress == Ips{"172.18.0.4"});
  // A node that was not listed is not added by a pod being replaced.
  s.ingress = {"172.18.0.4"};
  CHECK(
      rec::DesiredIngress(s, {DeletingPod("n1", 1, seconds(1)), ReadyPod("n2")}, nodes, {}, kNow, 2)
          .ingress == Ips{"172.18.0.4"});
}

TEST_CASE("Ingress: with ipMode VIP a listed node stays through any delete of its pod, then goes") {
  using std::chrono::seconds;
  api::Service s = LbService();  // ipMode VIP: the operator writes none
  REQUIRE(s.ingress_ip_mode.empty());
  s.ingress = {"172.18.0.3", "172.18.0.4"};
  std::vector<api::Node> nodes = {MakeNode("n1", {"172.18.0.3"}), MakeNode("n2", {"172.18.0.4"})};
  // kubectl delete pod on n1 (its template is current): kube-proxy answers on 172.18.0.3
  // meanwhile, so the node stays while the DaemonSet controller replaces the pod.
  rec::IngressDecision d = rec::DesiredIngress(
      s, {DeletingPod("n1", 2, seconds(1)), ReadyPod("n2")}, nodes, {}, kNow, 2);
  CHECK(d.ingress == Ips{"172.18.0.3", "172.18.0.4"});
  CHECK(d.recheck_after == rec::kRestartHold - seconds(1));
  // Also with the generation unknown.
  CHECK(rec::DesiredIngress(s, {DeletingPod("n1", 0, seconds(1)), ReadyPod("n2")}, nodes, {}, kNow)
            .ingress == Ips{"172.18.0.3", "172.18.0.4"});
  // The old pod is gone, its successor is not Ready yet: held from the successor's creation.
  d = rec::DesiredIngress(s, {NotReadyPod("n1", seconds(2)), ReadyPod("n2")}, nodes, {}, kNow, 2);
  CHECK(d.ingress == Ips{"172.18.0.3", "172.18.0.4"});
  // No successor within the hold (the node left the pool): the node goes 10 s after the delete.
  d = rec::DesiredIngress(s, {DeletingPod("n1", 2, rec::kRestartHold), ReadyPod("n2")}, nodes, {},
                          kNow, 2);
  CHECK(d.ingress == Ips{"172.18.0.4"});
  CHECK(d.recheck_after.count() == 0);
  // A node the cluster no longer has is not held, whatever its pod.
  CHECK(rec::DesiredIngress(s, {DeletingPod("n1", 2, seconds(1)), ReadyPod("n2")},
                            {MakeNode("n2", {"172.18.0.4"})}, {}, kNow, 2)
            .ingress == Ips{"172.18.0.4"});
  // A node that was not listed is not added by a pod being deleted.
  s.ingress = {"172.18.0.4"};
  CHECK(
      rec::DesiredIngress(s, {DeletingPod("n1", 2, seconds(1)), ReadyPod("n2")}, nodes, {}, kNow, 2)
          .ingress == Ips{"172.18.0.4"});
}

TEST_CASE("Ingress: the first address stays first when a lower one joins; the rest are sorted") {
  api::Service s = LbService();
  std::vector<api::Node> nodes = {MakeNode("n1", {"172.18.0.3", "fc00::3"}),
                                  MakeNode("n2", {"172.18.0.4", "fc00::4"}),
                                  MakeNode("n3", {"172.18.0.10", "fc00::10"})};
  std::vector<api::Pod> all = {ReadyPod("n3"), ReadyPod("n2"), ReadyPod("n1")};
  // A new Service: numeric order.
  CHECK(Ingress(s, all, nodes) == Ips{"172.18.0.3", "172.18.0.4", "172.18.0.10"});
  // n3's balancer was Ready first and is listed alone; the others join behind it, sorted.
  s.ingress = {"172.18.0.10"};
  CHECK(Ingress(s, all, nodes) == Ips{"172.18.0.10", "172.18.0.3", "172.18.0.4"});
  // The same list again is the same list (no write).
  s.ingress = Ingress(s, all, nodes);
  CHECK(Ingress(s, all, nodes) == s.ingress);
  // The first node leaves: the rest in numeric order.
  CHECK(Ingress(s, {ReadyPod("n1"), ReadyPod("n2")}, nodes) == Ips{"172.18.0.3", "172.18.0.4"});
  // Dual-stack: each family keeps its own first address, families in spec.ipFamilies order.
  api::Service dual = LbService();
  dual.cluster_ips = {"fd00::5", "10.96.0.5"};
  dual.ip_families = {"IPv6", "IPv4"};
  dual.ingress = {"fc00::4", "172.18.0.10"};
  CHECK(Ingress(dual, all, nodes) ==
        Ips{"fc00::4", "fc00::3", "fc00::10", "172.18.0.10", "172.18.0.3", "172.18.0.4"});
}

TEST_CASE("Ingress: externalTrafficPolicy Local lists the node with the most endpoints first") {
  api::Service s = LbService();
  s.external_traffic_local = true;
  std::vector<api::Node> nodes = {MakeNode("n1", {"172.18.0.3"}), MakeNode("n2", {"172.18.0.4"}),
                                  MakeNode("n3", {"172.18.0.5"})};
  std::vector<api::Pod> pods = {ReadyPod("n1"), ReadyPod("n2"), ReadyPod("n3")};
  api::EndpointSlice a;
  a.service_name = "echo";
  a.ready_nodes = {"n1", "n2"};
  api::EndpointSlice b;
  b.service_name = "echo";
  b.ready_nodes = {"n2", "n3", "n3", "n3"};
  // n3 has 3 endpoints, n2 has 2 (over two slices), n1 has 1.
  CHECK(Ingress(s, pods, nodes, {a, b}) == Ips{"172.18.0.5", "172.18.0.4", "172.18.0.3"});
  // The count comes before the first-stays-first rule; equal counts keep it.
  s.ingress = {"172.18.0.3"};
  CHECK(Ingress(s, pods, nodes, {a, b}) == Ips{"172.18.0.5", "172.18.0.4", "172.18.0.3"});
  b.ready_nodes = {"n3"};
  a.ready_nodes = {"n1", "n2"};
  CHECK(Ingress(s, pods, nodes, {a, b}) == Ips{"172.18.0.3", "172.18.0.4", "172.18.0.5"});
  s.ingress = {"172.18.0.5"};
  CHECK(Ingress(s, pods, nodes, {a, b}) == Ips{"172.18.0.5", "172.18.0.3", "172.18.0.4"});
}
