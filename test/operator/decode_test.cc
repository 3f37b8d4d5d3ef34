// SPDX-License-Identifier: Apache-2.0
// Decoders on API JSON written from the API reference (testdata/) and on hostile input; the
// Event encoder.
#include "operator/api/decode.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "operator/api/event.h"
#include "operator/base/micro_time.h"
#include "test/operator/testdata.h"

using akrobateo::testing::Fixture;
using nlohmann::json;
namespace api = akrobateo::api;

TEST_CASE("Service: the dual-stack LoadBalancer fixture keeps exactly the used fields") {
  auto s = api::DecodeService(Fixture("service_lb_dual.json"));
  REQUIRE(s.ok());
  CHECK(s->ns == "default");
  CHECK(s->name == "echo");
  CHECK(s->uid == "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c");
  CHECK(s->resource_version == "1234");
  CHECK(s->creation_timestamp == "2026-11-20T08:00:00Z");
  CHECK(s->type == "LoadBalancer");
  CHECK(!s->load_balancer_class);
  CHECK(s->cluster_ips == std::vector<std::string>{"10.96.12.34", "fd00:10:96::1234"});
  CHECK(s->ip_families == std::vector<std::string>{"IPv4", "IPv6"});
  REQUIRE(s->ports.size() == 3);
  CHECK(s->ports[1] == api::ServicePort{"dns", "UDP", 53, 30053});
  CHECK(s->ports[2].protocol == "SCTP");
  CHECK(!s->external_traffic_local);
  CHECK(s->source_ranges == std::vector<std::string>{"192.0.2.0/24", "2001:db8::/32"});
  CHECK(s->lb_pool == "edge");
  REQUIRE(s->tolerations_json);
  REQUIRE(s->priority_class);
  CHECK(s->priority_class->empty());  // present and empty: no priority class
  CHECK(s->ingress == std::vector<std::string>{"172.18.0.2", "fc00:f853:ccd:e793::2"});
  CHECK(!s->ingress_has_other_fields);  // ipMode VIP is the API server's default
}

TEST_CASE("Service: ClusterIP and another class's LoadBalancer") {
  auto c = api::DecodeService(Fixture("service_clusterip.json"));
  REQUIRE(c.ok());
  CHECK(c->type == "ClusterIP");
  CHECK(c->ports.empty());  // not kept for Services that cannot be handled
  CHECK(c->ingress.empty());

  auto o = api::DecodeService(Fixture("service_local_other_class.json"));
  REQUIRE(o.ok());
  CHECK(o->load_balancer_class == std::optional<std::string>("metallb.io/metallb"));
  CHECK(o->external_traffic_local);
  REQUIRE(o->ports.size() == 1);
  CHECK(o->ports[0].protocol == "TCP");  // defaulted
  CHECK(o->ingress.empty());
  CHECK(o->ingress_has_other_fields);  // a hostname entry
}

TEST_CASE("Service: legacy source-range annotation, 'None' cluster IP, bad field types") {
  json j = {{"metadata",
             {{"name", "x"},
              {"namespace", "n"},
              {"annotations",
               {{"service.beta.kubernetes.io/load-balancer-source-ranges",
                 "10.0.0.0/8, 192.168.0.0/16,"}}}}},
            {"spec",
             {{"type", "LoadBalancer"},
              {"clusterIP", "None"},
              {"ports", json::array({{{"port", "eighty"}, {"protocol", 6}}, 17, nullptr})}}}};
  auto s = api::DecodeService(j);
  REQUIRE(s.ok());
  CHECK(s->cluster_ips.empty());
  CHECK(s->source_ranges == std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"});
  REQUIRE(s->ports.size() == 3);
  CHECK(s->ports[0].port == 0);
  CHECK(s->ports[0].protocol == "TCP");
}

TEST_CASE(
    "Service: ipMode and ports as the operator writes them; entries that differ are not ours") {
  json j = Fixture("service_lb_dual.json");
  json& ingress = j["status"]["loadBalancer"]["ingress"];
  REQUIRE(ingress.size() >= 2);
  json ports =
      json::array({{{"port", 10250}, {"protocol", "TCP"}, {"error", "akrobateo.dev/ReservedPort"}},
                   {{"port", 8080}, {"protocol", "TCP"}}});
  for (json& e : ingress) {
    e["ipMode"] = "Proxy";
    e["ports"] = ports;
  }
  auto s = api::DecodeService(j);
  REQUIRE(s.ok());
  CHECK(s->ingress_ip_mode == "Proxy");
  CHECK(s->ingress_ports == std::vector<api::IngressPort>{
                                {10250, "TCP", "akrobateo.dev/ReservedPort"}, {8080, "TCP", ""}});
  CHECK_FALSE(s->ingress_has_other_fields);
  // One entry alone with another ipMode, or other ports: written by someone else.
  ingress[0]["ipMode"] = "VIP";
  CHECK(api::DecodeService(j)->ingress_has_other_fields);
  ingress[0]["ipMode"] = "Proxy";
  ingress[1]["ports"] = json::array();
  CHECK(api::DecodeService(j)->ingress_has_other_fields);
}

TEST_CASE("Service: nodePorts of every type, loadBalancerIP, finalizers, deletion") {
  json j = Fixture("service_lb_dual.json");
  j["spec"]["ports"][0]["nodePort"] = 31001;
  j["spec"]["healthCheckNodePort"] = 32000;
  j["spec"]["loadBalancerIP"] = "192.0.2.7";
  j["metadata"]["finalizers"] = json::array({"service.kubernetes.io/load-balancer-cleanup"});
  j["metadata"]["deletionTimestamp"] = "2026-12-07T10:00:00Z";
  auto s = api::DecodeService(j);
  REQUIRE(s.ok());
  CHECK(std::find(s->node_ports.begin(), s->node_ports.end(), 31001) != s->node_ports.end());
  CHECK(s->node_ports.back() == 32000);
  CHECK(s->load_balancer_ip == std::optional<std::string>("192.0.2.7"));
  CHECK(s->finalizers == std::vector<std::string>{"service.kubernetes.io/load-balancer-cleanup"});
  CHECK(s->being_deleted);
  // A NodePort Service keeps only its nodePorts (its other ports are not cached).
  j["spec"]["type"] = "NodePort";
  auto np = api::DecodeService(j);
  REQUIRE(np.ok());
  CHECK(np->ports.empty());
  CHECK(std::find(np->node_ports.begin(), np->node_ports.end(), 31001) != np->node_ports.end());
  CHECK_FALSE(np->load_balancer_ip);
}

TEST_CASE("Service: an oversized tolerations annotation is not kept whole") {
  json j = Fixture("service_lb_dual.json");
  j["metadata"]["annotations"]["akrobateo.dev/tolerations"] = std::string(100000, 'x');
  auto s = api::DecodeService(j);
  REQUIRE(s.ok());
  REQUIRE(s->tolerations_json);
  CHECK(s->tolerations_json->size() == 8193);
  CHECK(api::ParseTolerations(*s->tolerations_json).error() == "longer than 8192 bytes");
}

TEST_CASE("Node: labels and addresses") {
  auto n = api::DecodeNode(Fixture("node.json"));
  REQUIRE(n.ok());
  CHECK(n->name == "kind-worker");
  CHECK(n->enable_lb);
  CHECK(n->internal_ips == std::vector<std::string>{"172.18.0.3", "fc00:f853:ccd:e793::3"});
  CHECK(n->external_ips == std::vector<std::string>{"203.0.113.7"});
}

TEST_CASE("Pod: labels, node and readiness; a terminating pod is not ready") {
  json j = Fixture("pod.json");
  auto p = api::DecodePod(j);
  REQUIRE(p.ok());
  CHECK(p->service_ns == "default");
  CHECK(p->service_name == "echo");
  CHECK(p->service_uid == "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c");
  CHECK(p->node_name == "kind-worker");
  CHECK(p->ready);
  j["metadata"]["deletionTimestamp"] = "2026-11-26T10:00:00Z";
  CHECK(!api::DecodePod(j)->ready);
  j["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", "False"}}});
  j["metadata"].erase("deletionTimestamp");
  CHECK(!api::DecodePod(j)->ready);
  CHECK(api::DecodePod(j)->not_ready_since == std::chrono::system_clock::time_point{});
}

TEST_CASE("Pod: a not-Ready pod keeps when it turned not Ready; a terminating one does not") {
  json j = Fixture("pod.json");
  j["status"]["conditions"] = json::array(
      {{{"type", "Ready"}, {"status", "False"}, {"lastTransitionTime", "2026-12-03T10:00:07Z"}}});
  auto p = api::DecodePod(j);
  REQUIRE(p.ok());
  CHECK(!p->ready);
  CHECK(std::chrono::system_clock::to_time_t(p->not_ready_since) == 1796292007);
  j["metadata"]["deletionTimestamp"] = "2026-12-03T10:00:08Z";
  CHECK(api::DecodePod(j)->not_ready_since == std::chrono::system_clock::time_point{});
  // A Ready pod has none.
  CHECK(api::DecodePod(Fixture("pod.json"))->not_ready_since ==
        std::chrono::system_clock::time_point{});
}

TEST_CASE("Pod: a new pod without a Ready condition is not Ready since its creation") {
  // Recorded from kube-apiserver v1.36.3: PodScheduled only, no Ready condition yet.
  json j = Fixture("recorded/pod-unschedulable.json");
  j["metadata"]["creationTimestamp"] = "2026-12-03T10:00:05Z";
  auto p = api::DecodePod(j);
  REQUIRE(p.ok());
  CHECK(!p->ready);
  CHECK(std::chrono::system_clock::to_time_t(p->not_ready_since) == 1796292005);
}

TEST_CASE("Pod: a delete keeps when it was asked for and the pod's template generation") {
  json j = Fixture("recorded/pod.json");
  CHECK(api::DecodePod(j)->template_generation == 1);
  CHECK(api::DecodePod(j)->deleting_since == std::chrono::system_clock::time_point{});
  // The API server sets deletionTimestamp to the request's time plus the grace period.
  j["metadata"]["deletionTimestamp"] = "2026-12-03T10:00:40Z";
  j["metadata"]["deletionGracePeriodSeconds"] = 30;
  auto p = api::DecodePod(j);
  REQUIRE(p.ok());
  CHECK(!p->ready);
  CHECK(std::chrono::system_clock::to_time_t(p->deleting_since) == 1796292010);
  CHECK(p->not_ready_since == std::chrono::system_clock::time_point{});
  j["metadata"]["labels"]["pod-template-generation"] = "x7";
  CHECK(api::DecodePod(j)->template_generation == 0);
}

TEST_CASE("Pod: PodScheduled False/Unschedulable keeps the scheduler's message and target node") {
  // Recorded from kube-apiserver v1.36.3: hostPort 9501 held on node-b by a plain pod.
  json j = Fixture("recorded/pod-unschedulable.json");
  auto p = api::DecodePod(j);
  REQUIRE(p.ok());
  CHECK(p->unschedulable);
  CHECK(!p->ready);
  CHECK(p->node_name.empty());
  CHECK(p->target_node == "node-b");
  CHECK(p->service_name == "all-busy");
  CHECK(p->scheduler_message.rfind("0/3 nodes are available: 1 node(s) didn't have free ports",
                                   0) == 0);
  CHECK(p->scheduler_message.size() <= api::kMaxSchedulerMessage);
  CHECK(p->scheduler_message.size() > 200);
  CHECK(p->scheduler_message.ends_with("..."));  // the recorded message is longer than the cap

  // A scheduled, Ready pod carries none of it (the cache stays small).
  auto ready = api::DecodePod(Fixture("recorded/pod.json"));
  REQUIRE(ready.ok());
  CHECK(!ready->unschedulable);
  CHECK(ready->scheduler_message.empty());
  CHECK(ready->target_node.empty());

  auto with_condition = [&](json c) {
    json k = j;
    k["status"]["conditions"] = json::array({c});
    return *api::DecodePod(k);
  };
  json cond = j["status"]["conditions"][0];
  cond["message"] = "short";
  CHECK(with_condition(cond).scheduler_message == "short");
  // Long messages are capped on a UTF-8 character boundary.
  std::string euros;
  for (int i = 0; i < 200; ++i) euros += "\xe2\x82\xac";  // U+20AC, 3 bytes each
  cond["message"] = euros;
  std::string capped = with_condition(cond).scheduler_message;
  CHECK(capped.size() <= api::kMaxSchedulerMessage);
  CHECK(capped == euros.substr(0, 252) + "...");
  // Other reasons and states are not "cannot be scheduled".
  for (auto [status, reason] : {std::pair{"False", "SchedulingGated"}, std::pair{"True", ""},
                                std::pair{"Unknown", "Unschedulable"}}) {
    CAPTURE(reason);
    json c = cond;
    c["status"] = status;
    c["reason"] = reason;
    CHECK(!with_condition(c).unschedulable);
  }
  json mistyped = cond;
  mistyped["message"] = 42;
  CHECK(with_condition(mistyped).unschedulable);
  CHECK(with_condition(mistyped).scheduler_message.empty());
  // A terminating pod no longer matters; a pod without the DaemonSet's affinity has no target.
  json deleting = j;
  deleting["metadata"]["deletionTimestamp"] = "2026-11-26T10:00:00Z";
  CHECK(!api::DecodePod(deleting)->unschedulable);
  json no_affinity = j;
  no_affinity["spec"].erase("affinity");
  CHECK(api::DecodePod(no_affinity)->unschedulable);
  CHECK(api::DecodePod(no_affinity)->target_node.empty());
}

TEST_CASE("EndpointSlice: ready endpoints' nodes, nil ready counts as ready, deduplicated") {
  auto e = api::DecodeEndpointSlice(Fixture("endpointslice.json"));
  REQUIRE(e.ok());
  CHECK(e->service_name == "echo");
  // One entry per ready endpoint (kind-worker has two), sorted.
  CHECK(e->ready_nodes == std::vector<std::string>{"kind-worker", "kind-worker", "kind-worker3"});
}

TEST_CASE("DaemonSet and Lease") {
  auto d = api::DecodeDaemonSet(Fixture("daemonset.json"));
  REQUIRE(d.ok());
  CHECK(d->service_uid == "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c");
  CHECK(d->spec_hash == "0123456789abcdef0123");
  CHECK(d->generation == 3);
  CHECK(d->observed_generation == 3);
  CHECK(d->desired_scheduled == 2);
  CHECK(d->current_scheduled == 2);
  CHECK(d->number_ready == 1);
  auto l = api::DecodeLease(Fixture("lease.json"));
  REQUIRE(l.ok());
  CHECK(l->holder == "operator-0_1a2b3c4d");
  CHECK(l->lease_duration_seconds == 15);
  CHECK(l->transitions == 2);
  CHECK(l->resource_version == "900");
}

TEST_CASE("PodCreateFailure: the DaemonSet controller's FailedCreate Event") {
  // Recorded from kube-apiserver v1.36.3: an admission policy refused the balancer pods.
  json j = Fixture("recorded/event-failedcreate.json");
  auto f = api::DecodePodCreateFailure(j);
  REQUIRE(f.ok());
  CHECK(f->ns == "akrobateo-system");
  CHECK(f->daemonset_uid == "4e025d72-bb9a-4f68-99e2-d8601dcf9fd8");
  CHECK(f->message.rfind("Error creating: pods \"akrobateo-default-sec-nopods-bd26a6f9eb-", 0) ==
        0);
  CHECK(f->message.find("refuses the balancer pods of Service sec-nopods") != std::string::npos);
  CHECK(std::chrono::system_clock::to_time_t(f->last_seen) == 1796626449);  // 06:54:09Z
  // eventTime when there is no lastTimestamp (events.k8s.io writers).
  j["lastTimestamp"] = nullptr;
  j["eventTime"] = "2026-12-07T06:54:10.250000Z";
  CHECK(std::chrono::system_clock::to_time_t(api::DecodePodCreateFailure(j)->last_seen) ==
        1796626450);
  // The message is capped.
  j["message"] = std::string(5000, 'x');
  CHECK(api::DecodePodCreateFailure(j)->message.size() <= api::kMaxCreateFailureMessage);
  // Another reason or kind is no pod create failure.
  j["reason"] = "SuccessfulCreate";
  CHECK(!api::DecodePodCreateFailure(j).ok());
}

TEST_CASE("Decoders reject what is not an object and name the kind") {
  for (const json& bad : {json(), json(3), json("s"), json::array(), json::object(),
                          json{{"metadata", 5}}, json{{"metadata", {{"name", 7}}}}}) {
    auto s = api::DecodeService(bad);
    CHECK(!s.ok());
    CHECK(s.error().find("Service") != std::string::npos);
    CHECK(!api::DecodeNode(bad).ok());
    CHECK(!api::DecodePod(bad).ok());
    CHECK(!api::DecodeEndpointSlice(bad).ok());
    CHECK(!api::DecodeDaemonSet(bad).ok());
  }
}

TEST_CASE("Tolerations annotation: valid lists and errors that name the entry") {
  auto ok = api::ParseTolerations(
      R"([{"key":"dedicated","operator":"Equal","value":"lb","effect":"NoSchedule"},
          {"operator":"Exists"},
          {"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":30}])");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 3);
  CHECK((*ok)[0] == api::Toleration{"dedicated", "Equal", "lb", "NoSchedule", std::nullopt});
  CHECK((*ok)[1].key.empty());
  CHECK((*ok)[2].seconds == std::optional<int64_t>(30));
  CHECK(api::ParseTolerations("[]").ok());

  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c :
       {Case{"not json", "not valid JSON"}, Case{"{}", "not a JSON list"},
        Case{"[1]", "entry 0 is not an object"},
        Case{R"([{"key":"a"},{"key":"b","operator":"Maybe"}])", "entry 1"},
        Case{R"([{"key":"a","operator":"Exists","value":"v"}])", "Exists"},
        Case{R"([{"operator":"Equal","value":"v"}])", "empty key"},
        Case{R"([{"key":"a","effect":"Sometimes"}])", "Sometimes"},
        Case{R"([{"key":"a","effect":"NoSchedule","tolerationSeconds":5}])", "NoExecute"},
        Case{R"([{"key":5}])", "key is not a string"}}) {
    auto r = api::ParseTolerations(c.text);
    CHECK_MESSAGE(!r.ok(), c.text);
    CHECK_MESSAGE(r.error().find(c.message) != std::string::npos, r.error());
  }
}

TEST_CASE("Status code of a watch ERROR object") {
  CHECK(api::StatusCode(json{{"kind", "Status"}, {"code", 410}}) == 410);
  CHECK(api::StatusCode(json{{"code", "410"}}) == 0);
  CHECK(api::StatusCode(json()) == 0);
}

TEST_CASE("Capped cuts on a UTF-8 character boundary, so the result serializes") {
  std::string s(996, 'a');
  s += "\xc3\xa9\xc3\xa9\xc3\xa9";  // byte 997 is the second byte of the first "é"
  std::string c = api::Capped(s, 1000);
  CHECK(c == std::string(996, 'a') + "...");
  CHECK_NOTHROW((void)json{{"note", c}}.dump());
  CHECK(api::Capped("short", 1000) == "short");
}

TEST_CASE("API timestamps: seconds and fractions parse, anything else is refused") {
  using akrobateo::ParseApiTime;
  using std::chrono::microseconds;
  auto t = ParseApiTime("2026-12-03T10:00:07Z");
  REQUIRE(t.has_value());
  CHECK(std::chrono::system_clock::to_time_t(*t) == 1796292007);
  auto micro = ParseApiTime("2026-12-03T10:00:07.104165Z");
  REQUIRE(micro.has_value());
  CHECK(*micro - *t == microseconds(104165));
  CHECK(*ParseApiTime("2026-12-03T10:00:07.5Z") - *t == microseconds(500000));
  CHECK(akrobateo::MicroTime(*micro) == "2026-12-03T10:00:07.104165Z");
  for (const char* bad : {"", "2026-12-03", "2026-12-03T10:00:07", "2026-12-03T10:00:07+01:00",
                          "2026-13-03T10:00:07Z", "2026-12-03T10:00:07.Z", "2026-12-03T10:00:07Zx",
                          "2026-12-03 10:00:07Z"}) {
    CAPTURE(bad);
    CHECK(!ParseApiTime(bad).has_value());
  }
}

TEST_CASE("Event: encoded as events.k8s.io/v1 about the Service, reported by the operator") {
  api::Event ev{"shop",
                "web.1874e2a9c0",
                "2026-12-03T13:00:00.000001Z",
                "op-7f9c",
                "Reconcile",
                "PortConflict",
                "Warning",
                "TCP/80 is held by shop/other",
                "web",
                "uid-1",
                "42"};
  json j = api::EncodeEvent(ev);
  CHECK(j["apiVersion"] == "events.k8s.io/v1");
  CHECK(j["kind"] == "Event");
  CHECK(j["metadata"] == json{{"name", "web.1874e2a9c0"}, {"namespace", "shop"}});
  CHECK(j["eventTime"] == "2026-12-03T13:00:00.000001Z");
  CHECK(j["reportingController"] == "akrobateo.dev/operator");
  CHECK(j["reportingInstance"] == "op-7f9c");
  CHECK(j["action"] == "Reconcile");
  CHECK(j["reason"] == "PortConflict");
  CHECK(j["type"] == "Warning");
  CHECK(j["note"] == "TCP/80 is held by shop/other");
  CHECK(j["regarding"] == json{{"apiVersion", "v1"},
                               {"kind", "Service"},
                               {"namespace", "shop"},
                               {"name", "web"},
                               {"uid", "uid-1"},
                               {"resourceVersion", "42"}});
  CHECK(j.size() == 11);
}
