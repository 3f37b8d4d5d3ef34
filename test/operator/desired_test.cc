// SPDX-License-Identifier: Apache-2.0
// The desired DaemonSet (docs/operator.md "DaemonSet", docs/design.md "Names") and what klipper-lb
// gets wrong (README.md, "Compared with klipper-lb and MetalLB").
#include "operator/reconcile/desired.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <regex>

#include "operator/api/daemonset.h"
#include "operator/names.h"
#include "operator/reconcile/handled.h"
#include "test/operator/service_builder.h"

using akrobateo::testing::LbService;
using nlohmann::json;
namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;

namespace {

const rec::DaemonSetOptions kOpts{"akrobateo-system", "akrobateo/nftlb:dev", "akrobateo-balancer"};

api::DaemonSet Build(const api::Service& s, bool enable_lb = false) {
  auto d = rec::BuildDaemonSet(s, enable_lb, kOpts);
  REQUIRE_MESSAGE(d.ok(), d.error());
  return d->ds;
}

bool HasArg(const api::DaemonSet& ds, const std::string& arg) {
  return std::find(ds.args.begin(), ds.args.end(), arg) != ds.args.end();
}

}  // namespace

TEST_CASE("Handled filter: type, class, --default-class") {
  rec::ClassOptions def{"akrobateo.dev/nftlb", true};
  rec::ClassOptions nodef{"akrobateo.dev/nftlb", false};
  api::Service s = LbService();
  CHECK(rec::IsHandled(s, def));
  CHECK(!rec::IsHandled(s, nodef));
  s.load_balancer_class = "akrobateo.dev/nftlb";
  CHECK(rec::IsHandled(s, def));
  CHECK(rec::IsHandled(s, nodef));
  s.load_balancer_class = "metallb.io/metallb";  // another controller's: never touched
  CHECK(!rec::IsHandled(s, def));
  CHECK(!rec::IsHandled(s, nodef));
  s.load_balancer_class.reset();
  for (const char* type : {"ClusterIP", "NodePort", "ExternalName", ""}) {
    s.type = type;  // a type change away from LoadBalancer: no longer handled (klipper-lb's bug)
    CHECK(!rec::IsHandled(s, def));
  }
}

TEST_CASE("DaemonSet name: deterministic, <= 63, DNS label, unique per UID") {
  std::regex dns_label("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  std::string ns63(63, 'n'), name63(63, 's');
  struct Case {
    std::string ns, name, uid;
  };
  for (const Case& c : {Case{"default", "echo", "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c"},
                        Case{ns63, name63, "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c"},
                        Case{"a", "b-", "x"}, Case{ns63, "s", ""}}) {
    std::string n = rec::DaemonSetName(c.ns, c.name, c.uid);
    CHECK(n.size() <= 63);
    CHECK_MESSAGE(std::regex_match(n, dns_label), n);
    CHECK(n == rec::DaemonSetName(c.ns, c.name, c.uid));
  }
  CHECK(rec::DaemonSetName("default", "echo", "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c") ==
        "akrobateo-default-echo-5f0c3f7a9b");
  // Same long names, different UIDs (a Service deleted and created again): different names.
  CHECK(rec::DaemonSetName(ns63, name63, "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c") !=
        rec::DaemonSetName(ns63, name63, "0e5d0b8c-1111-2222-3333-444455556666"));
}

TEST_CASE(
    "DaemonSet: labels, selector, one container, a host port per Service port with protocol") {
  api::Service s = LbService();
  s.ports = {{"http", "TCP", 80, 30080}, {"dns", "UDP", 53, 30053}, {"sig", "SCTP", 3868, 30868}};
  api::DaemonSet ds = Build(s);
  CHECK(ds.ns == "akrobateo-system");
  CHECK(ds.labels.at("app.kubernetes.io/managed-by") == "akrobateo");
  CHECK(ds.labels.at("akrobateo.dev/service-namespace") == "default");
  CHECK(ds.labels.at("akrobateo.dev/service-name") == "echo");
  CHECK(ds.labels.at("akrobateo.dev/service-uid") == s.uid);
  REQUIRE(ds.ports.size() == 3);
  CHECK(ds.ports[0] == api::ContainerPort{"tcp-80", 80, "TCP"});
  CHECK(ds.ports[1] == api::ContainerPort{"udp-53", 53, "UDP"});  // not TCP (klipper-lb's bug)
  CHECK(ds.ports[2] == api::ContainerPort{"sctp-3868", 3868, "SCTP"});
  CHECK(ds.args == std::vector<std::string>{
                       "--forward=tcp/80=10.96.12.34:80", "--forward=udp/53=10.96.12.34:53",
                       "--forward=sctp/3868=10.96.12.34:3868", "--ready-port=9901"});
  CHECK(!ds.host_ips_env);
  CHECK(!ds.ipv6_forwarding_sysctl);

  json j = api::EncodeDaemonSet(ds);
  const json& pod = j["spec"]["template"]["spec"];
  REQUIRE(pod["containers"].size() == 1);  // one container, not one per port (klipper-lb's bug)
  const json& c = pod["containers"][0];
  CHECK(c["name"] == "nftlb");
  CHECK(c["ports"][1]["hostPort"] == 53);
  CHECK(c["ports"][1]["containerPort"] == 53);
  CHECK(c["ports"][1]["protocol"] == "UDP");
  CHECK(c["securityContext"]["capabilities"]["drop"] == json::array({"ALL"}));
  CHECK(c["securityContext"]["capabilities"]["add"] == json::array({"NET_ADMIN"}));
  CHECK(c["securityContext"]["privileged"] == false);
  CHECK(c["securityContext"]["readOnlyRootFilesystem"] == true);
  CHECK(c["securityContext"]["allowPrivilegeEscalation"] == false);
  CHECK(c["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault");
  CHECK(c["resources"]["limits"].contains("memory"));
  CHECK(c["resources"]["requests"].contains("cpu"));
  CHECK(pod["automountServiceAccountToken"] == false);
  CHECK(pod["enableServiceLinks"] == false);
  CHECK(pod["priorityClassName"] == "akrobateo-balancer");  // the --balancer-priority-class
  CHECK(!pod.contains("nodeSelector"));
  CHECK(!j["metadata"].contains("ownerReferences"));
  CHECK(j["spec"]["updateStrategy"]["type"] == "RollingUpdate");
  CHECK(j["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == 1);
  CHECK(j["spec"]["template"]["metadata"]["labels"] == j["metadata"]["labels"]);
  for (const auto& [k, v] : j["spec"]["selector"]["matchLabels"].items()) {
    CHECK(j["spec"]["template"]["metadata"]["labels"][k] == v);
  }
  CHECK(j["metadata"]["annotations"]["akrobateo.dev/spec-hash"] == api::SpecHash(ds));
}

TEST_CASE("DaemonSet: dual stack brackets IPv6 and adds the IPv6 forwarding sysctl") {
  api::Service s = LbService();
  s.cluster_ips = {"fd00:10:96::1234", "10.96.12.34"};
  s.ip_families = {"IPv6", "IPv4"};
  api::DaemonSet ds = Build(s);
  CHECK(ds.args == std::vector<std::string>{"--forward=tcp/80=[fd00:10:96::1234]:80",
                                            "--forward=tcp/80=10.96.12.34:80",
                                            "--ready-port=9901"});
  CHECK(ds.ipv6_forwarding_sysctl);
  json pod = api::EncodeDaemonSet(ds)["spec"]["template"]["spec"];
  CHECK(pod["securityContext"]["sysctls"][0]["name"] == "net.ipv6.conf.all.forwarding");
  CHECK(pod["securityContext"]["sysctls"][0]["value"] == "1");
}

TEST_CASE("DaemonSet: externalTrafficPolicy Local forwards to the node and the nodePort") {
  api::Service s = LbService();
  s.external_traffic_local = true;
  s.cluster_ips = {"10.96.12.34", "fd00:10:96::1234"};
  s.ip_families = {"IPv4", "IPv6"};
  s.ports = {{"http", "TCP", 80, 30080}, {"nonp", "TCP", 81, 0}};
  api::DaemonSet ds = Build(s);
  CHECK(ds.args == std::vector<std::string>{
                       "--forward=tcp/80=node:30080", "--forward=tcp/80=[node]:30080",
                       // no nodePort (allocateLoadBalancerNodePorts false): the cluster IP
                       "--forward=tcp/81=10.96.12.34:81", "--forward=tcp/81=[fd00:10:96::1234]:81",
                       "--node-ips-env=AKROBATEO_HOST_IPS", "--ready-port=9901"});
  CHECK(ds.host_ips_env);
  json c = api::EncodeDaemonSet(ds)["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["env"][0]["name"] == "AKROBATEO_HOST_IPS");
  CHECK(c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIPs");
}

TEST_CASE("DaemonSet: Ready through a tcpSocket probe on nftlb's readiness port, no exec") {
  api::Service cluster = LbService();
  cluster.cluster_ips = {"10.96.12.34", "fd00:10:96::1234"};
  cluster.ip_families = {"IPv4", "IPv6"};
  cluster.ports = {{"http", "TCP", 80, 30080}, {"dns", "UDP", 53, 30053}};
  cluster.source_ranges = {"192.0.2.0/24", "2001:db8::/32"};
  api::Service local = cluster;
  local.external_traffic_local = true;
  for (const api::Service& s : {cluster, local}) {
    CAPTURE(s.external_traffic_local);
    api::DaemonSet ds = Build(s);
    const json c = api::EncodeDaemonSet(ds)["spec"]["template"]["spec"]["containers"][0];
    CHECK(c["command"] == json::array({"/usr/local/bin/nftlb"}));
    CHECK(c["args"] == json(ds.args));
    // nftlb opens the port once its rules are in; the kubelet knocks on it every second.
    CHECK(ds.ready_port == 9901);
    CHECK(HasArg(ds, "--ready-port=9901"));
    REQUIRE(c.contains("readinessProbe"));
    const json& probe = c["readinessProbe"];
    CHECK(probe["tcpSocket"] == json{{"port", 9901}});
    CHECK(!probe.contains("exec"));
    CHECK(probe["periodSeconds"] == 1);
    CHECK(probe["timeoutSeconds"] == 1);
    CHECK(probe["successThreshold"] == 1);
    CHECK(probe["failureThreshold"] == 2);
    // No startup probe: it would hold the first readiness probe back until its own next tick
    // (docs/operator.md, "Readiness"). No liveness probe either.
    CHECK(!c.contains("startupProbe"));
    CHECK(!c.contains("livenessProbe"));
    // The readiness port is the pod's own: no containerPort, so no hostPort on the node.
    for (const json& p : c["ports"]) CHECK(p["containerPort"] != 9901);
    CHECK(HasArg(ds, "--source-range=192.0.2.0/24"));
    CHECK(HasArg(ds, "--source-range=2001:db8::/32"));
    if (s.external_traffic_local) {
      // The node's addresses reach nftlb through the environment.
      CHECK(HasArg(ds, "--node-ips-env=AKROBATEO_HOST_IPS"));
      CHECK(HasArg(ds, "--forward=udp/53=[node]:30053"));
      CHECK(c["env"][0]["name"] == "AKROBATEO_HOST_IPS");
    } else {
      CHECK(HasArg(ds, "--forward=udp/53=[fd00:10:96::1234]:53"));
      CHECK(!c.contains("env"));
    }
  }
}

TEST_CASE("DaemonSet: the readiness port is none of the Service's ports, whatever the protocol") {
  api::Service s = LbService();
  // The default readiness port and the next two are Service ports (TCP, UDP, SCTP).
  s.ports = {{"a", "TCP", 9901, 30001},
             {"b", "UDP", 9902, 30002},
             {"c", "SCTP", 9903, 30003},
             {"d", "TCP", 9905, 30005}};
  api::DaemonSet ds = Build(s);
  CHECK(ds.ready_port == 9904);
  CHECK(HasArg(ds, "--ready-port=9904"));
  const json c = api::EncodeDaemonSet(ds)["spec"]["template"]["spec"]["containers"][0];
  CHECK(c["readinessProbe"]["tcpSocket"]["port"] == 9904);
  CHECK(rec::ReadyPort(s) == 9904);
  // A Service on other ports keeps the default, so that adding one moves nothing.
  s.ports = {{"http", "TCP", 80, 30080}, {"high", "TCP", 65535, 30081}};
  CHECK(rec::ReadyPort(s) == akrobateo::names::kReadyPort);
}

TEST_CASE("DaemonSet: source ranges, node selection, tolerations and priority class") {
  api::Service s = LbService();
  s.source_ranges = {"192.0.2.0/24", "2001:db8::/32"};
  s.lb_pool = "edge";
  s.tolerations_json =
      R"([{"key":"dedicated","operator":"Equal","value":"lb","effect":"NoSchedule"}])";
  s.priority_class = "";
  api::DaemonSet ds = Build(s, /*enable_lb=*/true);
  CHECK(HasArg(ds, "--source-range=192.0.2.0/24"));
  CHECK(HasArg(ds, "--source-range=2001:db8::/32"));
  CHECK(ds.node_selector == std::map<std::string, std::string>{{"akrobateo.dev/enablelb", "true"},
                                                               {"akrobateo.dev/lbpool", "edge"}});
  REQUIRE(ds.tolerations.size() == 4);
  CHECK(ds.tolerations[0].key == "node-role.kubernetes.io/control-plane");
  CHECK(ds.tolerations[2].key == "CriticalAddonsOnly");
  CHECK(ds.tolerations[3] ==
        api::Toleration{"dedicated", "Equal", "lb", "NoSchedule", std::nullopt});
  CHECK(ds.priority_class.empty());
  CHECK(!api::EncodeDaemonSet(ds)["spec"]["template"]["spec"].contains("priorityClassName"));

  s.priority_class = "high";
  CHECK(Build(s).priority_class == "high");
  // lbpool alone selects the pool even when no node has enablelb.
  CHECK(Build(s, false).node_selector ==
        std::map<std::string, std::string>{{"akrobateo.dev/lbpool", "edge"}});
}

TEST_CASE("DaemonSet: invalid tolerations JSON is a warning, not a failure") {
  api::Service s = LbService();
  s.tolerations_json = "[{not json";
  auto d = rec::BuildDaemonSet(s, false, kOpts);
  REQUIRE(d.ok());
  REQUIRE(d->warnings.size() == 1);
  CHECK(d->warnings[0].find("akrobateo.dev/tolerations") != std::string::npos);
  CHECK(d->ds.tolerations.size() == 3);  // the defaults only
}

TEST_CASE("DaemonSet: bad input gives a clear error or skips the bad port, never crashes") {
  api::Service s = LbService();
  s.cluster_ips = {};
  auto none = rec::BuildDaemonSet(s, false, kOpts);
  CHECK(!none.ok());
  CHECK(none.error().find("cluster IP") != std::string::npos);
  s.cluster_ips = {"not-an-ip"};
  CHECK(!rec::BuildDaemonSet(s, false, kOpts).ok());

  s = LbService();
  s.ports = {{"zero", "TCP", 0, 0}, {"big", "TCP", 70000, 0}, {"weird", "ICMP", 7, 0}};
  auto noports = rec::BuildDaemonSet(s, false, kOpts);
  CHECK(!noports.ok());
  CHECK(noports.error().find("port") != std::string::npos);

  s.ports = {{"", "", 8080, 0}};  // no protocol (decoder default is TCP; here even empty)
  CHECK(!rec::BuildDaemonSet(s, false, kOpts).ok());

  s.ports.clear();
  for (int32_t p = 1000; p < 1400; ++p) s.ports.push_back({"", p % 2 != 0 ? "UDP" : "TCP", p, p});
  api::DaemonSet many = Build(s);
  CHECK(many.ports.size() == 400);
  CHECK(many.args.size() == 401);  // a --forward per port, and the --ready-port
}

TEST_CASE(
    "Spec hash: unchanged Service -> same hash (no write); each relevant change -> new hash") {
  api::Service s = LbService();
  const std::string base = api::SpecHash(Build(s));
  CHECK(api::SpecHash(Build(s)) == base);
  api::Service same = s;
  same.resource_version = "99";  // a status or metadata-only change
  same.ingress = {"1.2.3.4"};
  CHECK(api::SpecHash(Build(same)) == base);

  std::vector<api::Service> changes(7, s);
  changes[0].ports[0].port = 8080;  // port change updates
  changes[1].ports[0].protocol = "UDP";
  changes[2].external_traffic_local = true;
  changes[3].source_ranges = {"192.0.2.0/24"};
  changes[4].lb_pool = "edge";
  changes[5].tolerations_json = R"([{"operator":"Exists"}])";
  changes[6].cluster_ips = {"10.96.0.99"};
  for (const api::Service& c : changes) CHECK(api::SpecHash(Build(c)) != base);
  CHECK(api::SpecHash(Build(s, /*enable_lb=*/true)) != base);  // node selection change
  auto other_image = rec::BuildDaemonSet(s, false, {"akrobateo-system", "akrobateo/nftlb:v2"});
  CHECK(api::SpecHash(other_image->ds) != base);
}
