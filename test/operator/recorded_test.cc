// SPDX-License-Identifier: Apache-2.0
// The decoders and the pure functions on JSON recorded from a real kube-apiserver v1.36.3
// (testdata/recorded, written by test/cluster/record-fixtures.sh).
#include <doctest/doctest.h>

#include <sstream>

#include "operator/api/daemonset.h"
#include "operator/api/decode.h"
#include "operator/reconcile/desired.h"
#include "operator/reconcile/ingress.h"
#include "test/operator/testdata.h"

using akrobateo::testing::Fixture;
using akrobateo::testing::ReadTestdata;
using nlohmann::json;
namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;

TEST_CASE("Recorded Service, DaemonSet, pod, nodes, EndpointSlice decode") {
  auto svc = api::DecodeService(Fixture("recorded/service.json"));
  REQUIRE(svc.ok());
  CHECK(svc->type == "LoadBalancer");
  CHECK(svc->cluster_ips == std::vector<std::string>{"10.96.209.9"});
  REQUIRE(svc->ports.size() == 1);
  CHECK(svc->ports[0] == api::ServicePort{"http", "TCP", 8080, 30132});
  CHECK(svc->ingress == std::vector<std::string>{"203.0.113.11"});
  CHECK(!svc->ingress_has_other_fields);

  auto ds = api::DecodeDaemonSet(Fixture("recorded/daemonset.json"));
  REQUIRE(ds.ok());
  CHECK(ds->service_uid == svc->uid);
  CHECK(ds->desired_scheduled == 3);
  CHECK(ds->number_ready == 3);
  CHECK(!ds->spec_hash.empty());

  auto pod = api::DecodePod(Fixture("recorded/pod.json"));
  REQUIRE(pod.ok());
  CHECK(pod->service_uid == svc->uid);
  CHECK(pod->node_name == "node-c");
  CHECK(pod->ready);

  auto ext = api::DecodeNode(Fixture("recorded/node-external-ip.json"));
  auto dual = api::DecodeNode(Fixture("recorded/node-dual-stack.json"));
  REQUIRE(ext.ok());
  REQUIRE(dual.ok());
  CHECK(ext->external_ips == std::vector<std::string>{"203.0.113.11"});
  CHECK(dual->internal_ips == std::vector<std::string>{"192.0.2.12", "2001:db8::12"});

  auto slice = api::DecodeEndpointSlice(Fixture("recorded/endpointslice.json"));
  REQUIRE(slice.ok());
  CHECK(slice->service_name == "echoserver");
  CHECK(slice->ready_nodes == std::vector<std::string>{"node-a"});
}

TEST_CASE("Recorded lists and watch events decode item by item") {
  for (const char* name : {"recorded/service-list.json", "recorded/node-list.json"}) {
    json list = Fixture(name);
    REQUIRE(list["items"].is_array());
    CHECK(!list["metadata"]["resourceVersion"].get<std::string>().empty());
    for (const json& item : list["items"]) {
      CHECK(api::DecodeService(item).ok());  // any object with a name decodes
      CHECK(api::DecodeNode(item).ok());
    }
  }
  std::istringstream lines(ReadTestdata("recorded/service-watch.jsonl"));
  int events = 0;
  for (std::string line; std::getline(lines, line);) {
    json ev = json::parse(line);
    CHECK(ev["type"] == "ADDED");
    CHECK(api::DecodeService(ev["object"]).ok());
    ++events;
  }
  CHECK(events == 2);
}

TEST_CASE("Recorded cluster: the operator's pure functions reproduce what it wrote there") {
  auto svc = api::DecodeService(Fixture("recorded/service.json"));
  REQUIRE(svc.ok());
  json recorded = Fixture("recorded/daemonset.json");
  auto desired = rec::BuildDaemonSet(*svc, false, {"akrobateo-system", "akrobateo/nftlb:dev"});
  REQUIRE(desired.ok());
  json mine = api::EncodeDaemonSet(desired->ds);
  CHECK(mine["metadata"]["name"] == recorded["metadata"]["name"]);
  CHECK(mine["metadata"]["labels"] == recorded["metadata"]["labels"]);
  const json& rc = recorded["spec"]["template"]["spec"]["containers"][0];
  const json& mc = mine["spec"]["template"]["spec"]["containers"][0];
  // The same args, and the readiness port that this operator adds since it was recorded.
  json want_args = rc["args"];
  want_args.push_back("--ready-port=9901");
  CHECK(mc["args"] == want_args);
  CHECK(mc["ports"] == rc["ports"]);

  // Its one pod runs on node-c, which has no ExternalIP: the IPv4 InternalIP of node-c.
  auto pod = api::DecodePod(Fixture("recorded/pod.json"));
  std::vector<api::Node> nodes = {*api::DecodeNode(Fixture("recorded/node-external-ip.json")),
                                  *api::DecodeNode(Fixture("recorded/node-dual-stack.json"))};
  CHECK(rec::DesiredIngress(*svc, {*pod}, nodes, {}, std::chrono::system_clock::now()).ingress ==
        std::vector<std::string>{"192.0.2.12"});
  // The same pod on node-b (ExternalIP) gives the ExternalIP, which the recorded status shows.
  api::Pod on_b = *pod;
  on_b.node_name = "node-b";
  CHECK(rec::DesiredIngress(*svc, {*pod, on_b}, nodes, {}, std::chrono::system_clock::now())
            .ingress == svc->ingress);
}

TEST_CASE("Recorded DaemonSet written before the readiness probes: one update, then none") {
  // The recorded object is what the operator wrote before the probes existed (its spec hash
  // 9feef03d257e537a30b4 is what that operator computes for the recorded Service).
  auto svc = api::DecodeService(Fixture("recorded/service.json"));
  REQUIRE(svc.ok());
  json recorded = Fixture("recorded/daemonset.json");
  const json& rc = recorded["spec"]["template"]["spec"]["containers"][0];
  CHECK(!rc.contains("readinessProbe"));
  CHECK(!rc.contains("startupProbe"));
  auto info = api::DecodeDaemonSet(recorded);
  REQUIRE(info.ok());
  CHECK(info->spec_hash == "9feef03d257e537a30b4");
  const rec::DaemonSetOptions opts{"akrobateo-system", "akrobateo/nftlb:dev"};
  auto desired = rec::BuildDaemonSet(*svc, false, opts);
  REQUIRE(desired.ok());
  const std::string hash = api::SpecHash(desired->ds);
  // Differs: the reconciler updates that DaemonSet in place (same name, its resourceVersion)...
  CHECK(info->spec_hash != hash);
  const json update = api::EncodeDaemonSet(desired->ds, info->resource_version);
  CHECK(update["metadata"]["name"] == recorded["metadata"]["name"]);
  CHECK(update["metadata"]["resourceVersion"] == recorded["metadata"]["resourceVersion"]);
  CHECK(update["spec"]["template"]["spec"]["containers"][0].contains("readinessProbe"));
  // ... which then carries the new hash, and every later reconcile computes that same hash:
  // no further write.
  CHECK(update["metadata"]["annotations"]["akrobateo.dev/spec-hash"] == hash);
  for (int i = 0; i < 3; ++i) {
    CHECK(api::SpecHash(rec::BuildDaemonSet(*svc, false, opts)->ds) == hash);
  }
}
