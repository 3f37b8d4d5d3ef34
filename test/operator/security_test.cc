// SPDX-License-Identifier: Apache-2.0
// What a tenant's Service may not take through the operator (docs/security.md), decided on
// values: the reserved ports and other Services' nodePorts (port_policy.h), the annotations only
// trusted namespaces may set, the fields the operator cannot honour, and the checks that keep a
// bad annotation from becoming a DaemonSet the API server refuses.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "operator/api/decode.h"
#include "operator/names.h"
#include "operator/reconcile/plan.h"
#include "operator/reconcile/port_policy.h"
#include "test/operator/service_builder.h"

namespace api = akrobateo::api;
namespace names = akrobateo::names;
namespace rec = akrobateo::reconcile;
using akrobateo::testing::LbService;

namespace {

rec::PortRanges Ranges(const std::string& text) {
  auto r = rec::PortRanges::Parse(text);
  REQUIRE_MESSAGE(r.ok(), r.error());
  return *r;
}

rec::PlanOptions Options(const std::string& reserved = std::string(names::kDefaultReservedPorts),
                         std::vector<std::string> trusted = {}) {
  rec::PlanOptions o;
  o.classes = {"akrobateo.dev/nftlb", true};
  o.daemonsets = {"akrobateo-system", "akrobateo/nftlb:dev", "akrobateo-balancer"};
  o.policy.reserved_ports = Ranges(reserved);
  o.policy.trusted_namespaces = std::move(trusted);
  return o;
}

rec::ReconcilePlan PlanFor(const api::Service& svc, const rec::PlanOptions& opts,
                           rec::NodePortOwners owners = {}) {
  rec::PlanInput in;
  in.key = svc.ns + "/" + svc.name;
  in.service = svc;
  in.node_port_owners = std::move(owners);
  return rec::Plan(in, opts);
}

// The Warnings of a plan (before the writes), as "Reason: note".
std::vector<std::string> Warnings(const rec::ReconcilePlan& p) {
  std::vector<std::string> out;
  for (const rec::Notice& n : p.before) {
    if (n.kind == rec::Notice::Kind::kWarning) out.push_back(n.reason + ": " + n.note);
  }
  return out;
}

bool AnyContains(const std::vector<std::string>& v, const std::string& s) {
  return std::any_of(v.begin(), v.end(),
                     [&](const std::string& x) { return x.find(s) != std::string::npos; });
}

std::vector<int32_t> HostPorts(const rec::ReconcilePlan& p) {
  std::vector<int32_t> out;
  if (p.apply) {
    for (const auto& port : p.apply->desired.ports) out.push_back(port.port);
  }
  return out;
}

}  // namespace

TEST_CASE("PortRanges: parses ports and ranges, merges them, and names what is bad") {
  rec::PortRanges r = Ranges(" 10250, 22,2379-2381,2380-2390 ,30000-32767");
  CHECK(r.ToString() == "22,2379-2390,10250,30000-32767");
  CHECK(r.Contains(22));
  CHECK(r.Contains(2385));
  CHECK(r.Contains(32767));
  CHECK_FALSE(r.Contains(23));
  CHECK_FALSE(r.Contains(2391));
  CHECK_FALSE(r.Contains(80));
  CHECK(Ranges("").empty());
  CHECK(Ranges(std::string(names::kDefaultReservedPorts)).ToString() ==
        std::string(names::kDefaultReservedPorts));
  for (const char* bad : {"22,abc", "0", "65536", "100-", "-5", "2380-2379", "22,10250-x"}) {
    auto p = rec::PortRanges::Parse(bad);
    REQUIRE_FALSE(p.ok());
    CHECK_MESSAGE(p.error().find('"') != std::string::npos, p.error());
  }
  CHECK(rec::PortRanges::Parse("22,abc").error().find("\"abc\"") != std::string::npos);
}

TEST_CASE("The default reserved set covers the nodes' own listeners and the NodePort range") {
  rec::PortRanges r = Ranges(std::string(names::kDefaultReservedPorts));
  // sshd, etcd client/peer/metrics, kube-apiserver, kubelet (healthz, API, read-only),
  // kube-proxy (metrics, healthz), controller-manager, cloud-controller-manager, scheduler.
  for (int32_t port : {22, 2379, 2380, 2381, 6443, 10248, 10249, 10250, 10255, 10256, 10257, 10258,
                       10259, 30000, 31234, 32767}) {
    CHECK_MESSAGE(r.Contains(port), port);
    CHECK_MESSAGE(!rec::NodeServiceOn(port).empty(), port);
  }
  for (int32_t port : {53, 80, 443, 8080, 8443, 29999, 32768})
    CHECK_MESSAGE(!r.Contains(port), port);
}

TEST_CASE("A tenant's port on the kubelet's or sshd's port is refused, its other port served") {
  api::Service svc = LbService("tenant-x", "fake");
  svc.ports = {
      {"kubelet", "TCP", 10250, 31001}, {"ssh", "TCP", 22, 31002}, {"web", "TCP", 8080, 31003}};
  rec::ReconcilePlan p = PlanFor(svc, Options());
  REQUIRE(p.apply);
  CHECK(HostPorts(p) == std::vector<int32_t>{8080});
  for (const std::string& arg : p.apply->desired.args) {
    CHECK_MESSAGE(arg.find("10250") == std::string::npos, arg);
    CHECK_MESSAGE(arg.find("/22=") == std::string::npos, arg);
  }
  std::vector<std::string> w = Warnings(p);
  REQUIRE(w.size() == 1);
  CHECK(w[0].rfind("ReservedPort: ", 0) == 0);
  CHECK(w[0].find("TCP/10250") != std::string::npos);
  CHECK(w[0].find("(kubelet)") != std::string::npos);
  CHECK(w[0].find("TCP/22") != std::string::npos);
  CHECK(w[0].find("(sshd)") != std::string::npos);
}

TEST_CASE("Refused ports are in the status of every published address, with their error") {
  api::Service svc = LbService("tenant-x", "fake");
  svc.ports = {{"kubelet", "TCP", 10250, 31001}, {"web", "TCP", 8080, 31003}};
  rec::PlanInput in;
  in.key = "tenant-x/fake";
  in.service = svc;
  rec::PlanOptions opts = Options();
  // One Ready pod on a node: the address is published.
  rec::ReconcilePlan first = rec::Plan(in, opts);
  REQUIRE(first.apply);
  api::ObservedDaemonSet ds;
  ds.ns = "akrobateo-system";
  ds.name = first.apply->desired.name;
  ds.service_ns = svc.ns;
  ds.service_name = svc.name;
  ds.service_uid = svc.uid;
  ds.spec_hash = first.apply->hash;
  in.daemonsets = {ds};
  api::Pod pod;
  pod.ns = "akrobateo-system";
  pod.name = "lb-a";
  pod.service_ns = svc.ns;
  pod.service_name = svc.name;
  pod.service_uid = svc.uid;
  pod.node_name = "a";
  pod.ready = true;
  in.pods = {pod};
  api::Node node;
  node.name = "a";
  node.internal_ips = {"172.18.0.3"};
  in.nodes = {node};
  rec::ReconcilePlan p = rec::Plan(in, opts);
  CHECK_FALSE(p.apply);
  REQUIRE(p.status);
  CHECK(p.status->ingress == std::vector<std::string>{"172.18.0.3"});
  CHECK(p.status->ports ==
        std::vector<api::IngressPort>{{10250, "TCP", std::string(names::kPortErrorReserved)},
                                      {8080, "TCP", ""}});
  // kube-proxy must not take the refused port on the node addresses: ipMode Proxy.
  CHECK(p.status->ip_mode == "Proxy");
  // Written: nothing more to write.
  in.service->ingress = p.status->ingress;
  in.service->ingress_ports = p.status->ports;
  in.service->ingress_ip_mode = p.status->ip_mode;
  CHECK_FALSE(rec::Plan(in, opts).status);
  // The error is what the API accepts: a qualified name.
  CHECK(api::IsQualifiedName(names::kPortErrorReserved));
  CHECK(api::IsQualifiedName(names::kPortErrorNodePort));
  // Every port served again (the admin lifted the reservation): the ports go from the status.
  rec::ReconcilePlan lifted = rec::Plan(in, Options("22"));
  REQUIRE(lifted.status);
  CHECK(lifted.status->ports.empty());
  CHECK(lifted.status->ip_mode.empty());
  CHECK(lifted.status->ingress == std::vector<std::string>{"172.18.0.3"});
}

TEST_CASE("A port that is another Service's nodePort is refused; its own nodePort is not") {
  api::Service svc = LbService("tenant-x", "web");
  svc.ports = {{"a", "TCP", 31500, 30001}, {"b", "UDP", 5353, 30002}, {"c", "TCP", 30001, 30001}};
  // The admin lifted the NodePort range from the reserved set; nodePorts still count.
  rec::ReconcilePlan p =
      PlanFor(svc, Options("22"), {{31500, "other/db"}, {30001, "tenant-x/web"}});
  CHECK(HostPorts(p) == std::vector<int32_t>{5353, 30001});
  std::vector<std::string> w = Warnings(p);
  REQUIRE(w.size() == 1);
  CHECK(w[0].rfind("NodePortInUse: ", 0) == 0);
  CHECK(w[0].find("TCP/31500") != std::string::npos);
  CHECK(w[0].find("other/db") != std::string::npos);
}

TEST_CASE("A Service whose every port is refused gets no DaemonSet, a reason, and no status") {
  api::Service svc = LbService("tenant-x", "fake");
  svc.ports = {{"kubelet", "TCP", 10250, 31001}};
  svc.ingress = {"172.18.0.3"};
  api::ObservedDaemonSet old;
  old.ns = "akrobateo-system";
  old.name = "akrobateo-old";
  old.service_ns = svc.ns;
  old.service_name = svc.name;
  old.service_uid = svc.uid;
  rec::PlanInput in;
  in.key = "tenant-x/fake";
  in.service = svc;
  in.daemonsets = {old};
  rec::ReconcilePlan p = rec::Plan(in, Options());
  CHECK_FALSE(p.apply);
  REQUIRE(p.deletions.size() == 1);
  REQUIRE(p.status);
  CHECK(p.status->ingress.empty());
  std::vector<std::string> w = Warnings(p);
  CHECK(AnyContains(w, "ReservedPort: port TCP/10250"));
  CHECK(AnyContains(w, "UnavailableLoadBalancer: no port of the Service can be served"));
}

TEST_CASE("Tolerations and priority class annotations count only in trusted namespaces") {
  api::Service svc = LbService("team-b", "web");
  svc.tolerations_json = R"([{"operator":"Exists"}])";
  svc.priority_class = "system-node-critical";
  rec::ReconcilePlan untrusted = PlanFor(svc, Options());
  REQUIRE(untrusted.apply);
  const api::DaemonSet& ds = untrusted.apply->desired;
  CHECK(ds.priority_class == "akrobateo-balancer");
  for (const api::Toleration& t : ds.tolerations) {
    CHECK_MESSAGE(!(t.key.empty() && t.op == "Exists"), "a tenant got a toleration of every taint");
  }
  std::vector<std::string> w = Warnings(untrusted);
  REQUIRE(w.size() == 1);
  CHECK(w[0].rfind("AnnotationNotAllowed: ", 0) == 0);
  CHECK(w[0].find("akrobateo.dev/tolerations and akrobateo.dev/priority-class") !=
        std::string::npos);
  CHECK(w[0].find("team-b") != std::string::npos);

  for (const auto& trusted : {std::vector<std::string>{"team-b"}, std::vector<std::string>{"*"}}) {
    rec::ReconcilePlan p =
        PlanFor(svc, Options(std::string(names::kDefaultReservedPorts), trusted));
    REQUIRE(p.apply);
    CHECK(p.apply->desired.priority_class == "system-node-critical");
    CHECK(p.apply->desired.tolerations.back() == api::Toleration{"", "Exists", "", "", {}});
    CHECK(Warnings(p).empty());
  }
  // Another namespace's trust is not this one's.
  CHECK(PlanFor(svc, Options(std::string(names::kDefaultReservedPorts), {"team-a"}))
            .apply->desired.priority_class == "akrobateo-balancer");
}

TEST_CASE("spec.loadBalancerIP is not honoured, and the Service hears so") {
  api::Service svc = LbService();
  svc.load_balancer_ip = "192.0.2.10";
  rec::ReconcilePlan p = PlanFor(svc, Options());
  REQUIRE(p.apply);
  std::vector<std::string> w = Warnings(p);
  REQUIRE(w.size() == 1);
  CHECK(w[0].rfind("UnsupportedField: spec.loadBalancerIP 192.0.2.10 is ignored", 0) == 0);
  svc.load_balancer_ip.reset();
  CHECK(Warnings(PlanFor(svc, Options())).empty());
}

TEST_CASE("Tolerations the API server would refuse are refused here, naming the entry") {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : std::vector<Case>{
           {R"([{"key":"bad key!","operator":"Exists"}])", "entry 0: key \"bad key!\""},
           {R"([{"key":"a/b/c","operator":"Exists"}])", "not a qualified name"},
           {R"([{"key":"ok"},{"key":"k","value":"has space"}])", "entry 1: value \"has space\""},
           {R"([{"key":"k","effect":"NoRun"}])", "effect \"NoRun\""},
       }) {
    auto r = api::ParseTolerations(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.error().find(c.error) != std::string::npos, r.error());
  }
  std::string many = "[";
  for (size_t i = 0; i <= api::kMaxTolerations; ++i)
    many += std::string(i ? "," : "") + R"({"key":"k"})";
  many += "]";
  CHECK(api::ParseTolerations(many).error().find("more than 32") != std::string::npos);
  std::string huge =
      R"([{"key":"k","value":")" + std::string(names::kMaxTolerationsAnnotation, 'v') + "\"}]";
  CHECK(api::ParseTolerations(huge).error().find("longer than 8192 bytes") != std::string::npos);
  auto ok = api::ParseTolerations(
      R"([{"key":"example.com/gpu","operator":"Equal","value":"a-1.b_2","effect":"NoSchedule"}])");
  REQUIRE_MESSAGE(ok.ok(), ok.error());
}

TEST_CASE("Name checks follow the API's rules") {
  CHECK(api::IsDnsSubdomain("akrobateo-balancer"));
  CHECK(api::IsDnsSubdomain("a.b-c.d"));
  CHECK_FALSE(api::IsDnsSubdomain("Upper"));
  CHECK_FALSE(api::IsDnsSubdomain("-a"));
  CHECK_FALSE(api::IsDnsSubdomain("a..b"));
  CHECK_FALSE(api::IsDnsSubdomain(""));
  CHECK(api::IsQualifiedName("node-role.kubernetes.io/control-plane"));
  CHECK(api::IsQualifiedName("CriticalAddonsOnly"));
  CHECK_FALSE(api::IsQualifiedName("/x"));
  CHECK_FALSE(api::IsQualifiedName(std::string(64, 'a')));
  CHECK(api::IsLabelValue(""));
  CHECK_FALSE(api::IsLabelValue("-x"));
}

TEST_CASE(
    "An invalid priority-class annotation in a trusted namespace falls back, with a Warning") {
  api::Service svc = LbService("team-b", "web");
  svc.priority_class = "Not A Name";
  rec::ReconcilePlan p = PlanFor(svc, Options(std::string(names::kDefaultReservedPorts), {"*"}));
  REQUIRE(p.apply);
  CHECK(p.apply->desired.priority_class == "akrobateo-balancer");
  CHECK(AnyContains(Warnings(p), "InvalidAnnotation: annotation akrobateo.dev/priority-class"));
}
