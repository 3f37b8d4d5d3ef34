// SPDX-License-Identifier: Apache-2.0
// The contract between the two halves: the args the operator writes into the balancer
// DaemonSet are parsed by nftlb into the forwards and source ranges the Service asked for.
//
// Each case builds the DaemonSet with the operator's builder, encodes it as it is sent to the
// API server, and takes the `nftlb` container from the pod template the way a kubelet would
// run it: environment variables resolved (the downward API with sample node addresses),
// `$(VAR)` references in command and args expanded, and the process environment being the
// container's env alone (enableServiceLinks is false). Those args go through nftlb's own
// argv parser. The readiness probe must knock on the port that nftlb opens (--ready-port once
// its rules are in), which must be none of the ports the pod forwards or publishes.
//
// Only the entry points are used: the operator's BuildDaemonSet / EncodeDaemonSet and its
// Service value type, nftlb's ParseArgs and its Config. Adapt this file when they move.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nftlb/config.h"
#include "nftlb/forward.h"
#include "operator/api/daemonset.h"
#include "operator/api/types.h"
#include "operator/names.h"
#include "operator/reconcile/desired.h"

namespace {

using nlohmann::json;
namespace api = akrobateo::api;

// The node the sample pod runs on, as the kubelet reports it in status.hostIPs.
constexpr const char* kHostIps = "192.0.2.10,2001:db8::10";

// The value the kubelet gives an env var with a fieldRef; the test fails on any other field,
// so that a new downward-API variable gets a sample value here before it is relied on.
std::string FieldValue(const std::string& path) {
  if (path == "status.hostIPs") return kHostIps;
  if (path == "status.hostIP") return "192.0.2.10";
  if (path == "spec.nodeName") return "node-a";
  FAIL("the test has no sample value for fieldRef ", path);
  return "";
}

using Env = std::map<std::string, std::string>;

// The kubelet's expansion of `$(NAME)` in command, args and env values: a defined NAME is
// replaced by its value, an undefined one is kept as written, `$$` is a literal `$`, and any
// other `$` stays.
std::string Expand(const std::string& in, const Env& env) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '$' || i + 1 >= in.size()) {
      out.push_back(in[i]);
      continue;
    }
    if (in[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    const size_t close = in.find(')', i + 2);
    if (in[i + 1] != '(' || close == std::string::npos) {
      out.push_back(in[i]);
      continue;
    }
    const std::string name = in.substr(i + 2, close - i - 2);
    auto it = env.find(name);
    out += it != env.end() ? it->second : in.substr(i, close - i + 1);
    i = close;
  }
  return out;
}

// What a pod of the DaemonSet runs in its `nftlb` container.
struct Container {
  std::vector<std::string> command;  // expanded
  std::vector<std::string> args;     // expanded
  Env env;
  std::set<std::pair<std::string, int>> host_ports;  // (lower-case protocol, hostPort)
  json readiness_probe;                              // the probe as written
  bool startup_probe = false;                        // whether there is one
};

Container AsKubeletRunsIt(const json& ds) {
  const json& pod = ds.at("spec").at("template").at("spec");
  CHECK(pod.value("enableServiceLinks", true) == false);
  const json* c = nullptr;
  for (const json& each : pod.at("containers")) {
    if (each.at("name") == "nftlb") c = &each;
  }
  REQUIRE_MESSAGE(c != nullptr, "no container named nftlb in ", ds.dump());
  Container out;
  for (const json& e : c->value("env", json::array())) {
    const std::string name = e.at("name");
    if (e.contains("valueFrom")) {
      out.env[name] = FieldValue(e.at("valueFrom").at("fieldRef").at("fieldPath"));
    } else {
      out.env[name] = Expand(e.value("value", ""), out.env);  // earlier variables only
    }
  }
  for (const json& a : c->value("command", json::array()))
    out.command.push_back(Expand(a, out.env));
  for (const json& a : c->value("args", json::array())) out.args.push_back(Expand(a, out.env));
  for (const json& p : c->value("ports", json::array())) {
    std::string proto = p.value("protocol", "TCP");
    std::transform(proto.begin(), proto.end(), proto.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    CHECK(p.at("hostPort") == p.at("containerPort"));
    out.host_ports.insert({proto, p.at("hostPort").get<int>()});
  }
  out.startup_probe = c->contains("startupProbe");
  out.readiness_probe = c->at("readinessProbe");
  return out;
}

// nftlb's parser on argv[1:], with the container's environment.
nftlb::Config Parse(const std::vector<std::string>& args, const Env& env) {
  auto lookup = [&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  nftlb::Result<nftlb::Config> r = nftlb::ParseArgs(args, lookup);
  std::string joined;
  for (const std::string& a : args) joined += " " + a;
  if (!r.ok()) FAIL("nftlb refuses the args", joined, ": ", r.error());
  REQUIRE_MESSAGE(r->mode != nftlb::Mode::kHelp, "nftlb", joined, " asks for help");
  return r.value();
}

// "proto/port=addr:port" with IPv6 in brackets, as --forward spells a resolved target.
std::set<std::string> Forwards(const nftlb::Config& c) {
  std::set<std::string> out;
  for (const nftlb::Forward& f : c.ruleset.forwards) {
    const std::string addr = f.target.family == nftlb::Family::kIpv6
                                 ? "[" + f.target.ToString() + "]"
                                 : f.target.ToString();
    out.insert(std::string(nftlb::ProtoName(f.proto)) + "/" + std::to_string(f.port) + "=" + addr +
               ":" + std::to_string(f.target_port));
  }
  return out;
}

std::set<std::string> Ranges(const nftlb::Config& c) {
  std::set<std::string> out;
  for (const nftlb::Cidr& r : c.ruleset.source_ranges) out.insert(r.ToString());
  return out;
}

std::set<std::pair<std::string, int>> ForwardedPorts(const nftlb::Config& c) {
  std::set<std::pair<std::string, int>> out;
  for (const nftlb::Forward& f : c.ruleset.forwards)
    out.insert({nftlb::ProtoName(f.proto), f.port});
  return out;
}

struct Want {
  std::set<std::string> forwards;
  std::set<std::string> ranges;
};

api::Service LoadBalancer(const std::string& name, std::vector<std::string> cluster_ips,
                          std::vector<std::string> families, std::vector<api::ServicePort> ports) {
  api::Service s;
  s.ns = "default";
  s.name = name;
  s.uid = "uid-of-" + name;
  s.resource_version = "1";
  s.creation_timestamp = "2026-12-01T00:00:00Z";
  s.type = "LoadBalancer";
  s.cluster_ips = std::move(cluster_ips);
  s.ip_families = std::move(families);
  s.ports = std::move(ports);
  return s;
}

// The whole contract for one Service.
void CheckContract(const api::Service& svc, const Want& want) {
  INFO("Service ", svc.name);
  auto built =
      akrobateo::reconcile::BuildDaemonSet(svc, false, {"akrobateo-system", "akrobateo/nftlb:dev"});
  REQUIRE_MESSAGE(built.ok(), built.error());
  const Container c = AsKubeletRunsIt(api::EncodeDaemonSet(built->ds));

  // The container: the args as the kubelet passes them, none left unexpanded.
  REQUIRE(c.command.size() == 1);
  for (const std::string& a : c.args) CHECK_MESSAGE(a.find("$(") == std::string::npos, a);
  const nftlb::Config run = Parse(c.args, c.env);
  CHECK(run.mode == nftlb::Mode::kDaemon);
  CHECK(run.backend == nftlb::BackendChoice::kAuto);
  CHECK(Forwards(run) == want.forwards);
  CHECK(Ranges(run) == want.ranges);
  // Traffic arrives on the pod's hostPorts: exactly the (protocol, port) pairs nftlb forwards.
  CHECK(c.host_ports == ForwardedPorts(run));

  // The readiness probe connects to the port nftlb listens on once its rules are in: a port the
  // pod's table does not forward (a probe there would be forwarded to the Service instead) and
  // that no hostPort publishes on the node.
  CHECK_FALSE(c.startup_probe);
  REQUIRE(c.readiness_probe.contains("tcpSocket"));
  CHECK_FALSE(c.readiness_probe.contains("exec"));
  const int ready = c.readiness_probe.at("tcpSocket").at("port").get<int>();
  CHECK(run.ready_port == ready);
  for (const auto& [proto, port] : ForwardedPorts(run)) CHECK(port != ready);
  for (const auto& [proto, port] : c.host_ports) CHECK(port != ready);
}

}  // namespace

TEST_CASE("IPv4 Service: one forward to the ClusterIP and port") {
  CheckContract(LoadBalancer("web", {"10.96.0.10"}, {"IPv4"}, {{"http", "TCP", 80, 30080}}),
                {{"tcp/80=10.96.0.10:80"}, {}});
}

TEST_CASE("IPv6-only Service: the target in brackets") {
  CheckContract(LoadBalancer("web6", {"fd00:10:96::a"}, {"IPv6"}, {{"http", "TCP", 8080, 30081}}),
                {{"tcp/8080=[fd00:10:96::a]:8080"}, {}});
}

TEST_CASE("dual-stack Service: one forward per port and family, in either family order") {
  const Want want{{"tcp/443=10.96.0.11:443", "tcp/443=[fd00:10:96::b]:443",
                   "udp/443=10.96.0.11:443", "udp/443=[fd00:10:96::b]:443"},
                  {}};
  const std::vector<api::ServicePort> ports{{"https", "TCP", 443, 30443},
                                            {"quic", "UDP", 443, 30443}};
  CheckContract(LoadBalancer("v6first", {"fd00:10:96::b", "10.96.0.11"}, {"IPv6", "IPv4"}, ports),
                want);
  CheckContract(LoadBalancer("v4first", {"10.96.0.11", "fd00:10:96::b"}, {"IPv4", "IPv6"}, ports),
                want);
}

TEST_CASE("tcp, udp and sctp ports, the same number on two protocols") {
  CheckContract(LoadBalancer("mixed", {"10.96.0.12"}, {"IPv4"},
                             {{"dns-tcp", "TCP", 53, 30053},
                              {"dns-udp", "UDP", 53, 30053},
                              {"diameter", "SCTP", 3868, 30868},
                              {"high", "TCP", 65535, 32767}}),
                {{"tcp/53=10.96.0.12:53", "udp/53=10.96.0.12:53", "sctp/3868=10.96.0.12:3868",
                  "tcp/65535=10.96.0.12:65535"},
                 {}});
}

TEST_CASE("externalTrafficPolicy Local: the node's own addresses (status.hostIPs) and nodePort") {
  api::Service v4 = LoadBalancer("local4", {"10.96.0.13"}, {"IPv4"},
                                 {{"http", "TCP", 80, 31080}, {"dns", "UDP", 53, 31053}});
  v4.external_traffic_local = true;
  CheckContract(v4, {{"tcp/80=192.0.2.10:31080", "udp/53=192.0.2.10:31053"}, {}});

  api::Service dual = LoadBalancer("local46", {"fd00:10:96::d", "10.96.0.14"}, {"IPv6", "IPv4"},
                                   {{"http", "TCP", 80, 31081}});
  dual.external_traffic_local = true;
  CheckContract(dual, {{"tcp/80=192.0.2.10:31081", "tcp/80=[2001:db8::10]:31081"}, {}});
}

TEST_CASE("loadBalancerSourceRanges become the source ranges, both families") {
  api::Service s = LoadBalancer("ranges", {"10.96.0.15", "fd00:10:96::f"}, {"IPv4", "IPv6"},
                                {{"http", "TCP", 80, 30082}});
  s.source_ranges = {"192.0.2.0/24", "198.51.100.7/32", "2001:db8:1::/48"};
  CheckContract(s, {{"tcp/80=10.96.0.15:80", "tcp/80=[fd00:10:96::f]:80"},
                    {"192.0.2.0/24", "198.51.100.7/32", "2001:db8:1::/48"}});
}

TEST_CASE("everything at once: Local, dual-stack, three protocols, source ranges") {
  api::Service s = LoadBalancer(
      "all", {"10.96.0.16", "fd00:10:96::10"}, {"IPv4", "IPv6"},
      {{"a", "TCP", 7000, 30700}, {"b", "UDP", 7001, 30701}, {"c", "SCTP", 7002, 30702}});
  s.external_traffic_local = true;
  s.source_ranges = {"203.0.113.0/24"};
  CheckContract(s, {{"tcp/7000=192.0.2.10:30700", "tcp/7000=[2001:db8::10]:30700",
                     "udp/7001=192.0.2.10:30701", "udp/7001=[2001:db8::10]:30701",
                     "sctp/7002=192.0.2.10:30702", "sctp/7002=[2001:db8::10]:30702"},
                    {"203.0.113.0/24"}});
}

TEST_CASE("a Service port on the default readiness port moves the readiness port") {
  // Two ports in a row where the readiness port would be: it goes past both, on every protocol.
  const int first = akrobateo::names::kReadyPort;
  CheckContract(LoadBalancer("ready", {"10.96.0.17"}, {"IPv4"},
                             {{"a", "TCP", first, 30900}, {"b", "UDP", first + 1, 30901}}),
                {{"tcp/" + std::to_string(first) + "=10.96.0.17:" + std::to_string(first),
                  "udp/" + std::to_string(first + 1) + "=10.96.0.17:" + std::to_string(first + 1)},
                 {}});
}

TEST_CASE("the test's kubelet expansion: defined, undefined and escaped references") {
  const Env env{{"A", "1"}, {"HOST", "192.0.2.10"}};
  CHECK(Expand("--x=$(A)", env) == "--x=1");
  CHECK(Expand("$(HOST):$(A)$(A)", env) == "192.0.2.10:11");
  CHECK(Expand("$(UNSET)", env) == "$(UNSET)");
  CHECK(Expand("$$(A)", env) == "$(A)");
  CHECK(Expand("a$b$", env) == "a$b$");
  CHECK(Expand("$(A", env) == "$(A");
}
