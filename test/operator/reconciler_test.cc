// SPDX-License-Identifier: Apache-2.0
// The reconciler end to end without an API server: caches filled by hand, the decision made by
// Plan, the writes carried out by the Executor on FakeTypedClient (what it was asked to write,
// in which order, with which resourceVersion), and the Events posted.
#include "operator/reconcile/reconciler.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "operator/api/daemonset.h"
#include "operator/cache/caches.h"
#include "operator/metrics/metrics.h"
#include "operator/reconcile/desired.h"
#include "operator/reconcile/ingress.h"
#include "operator/reconcile/plan.h"
#include "test/operator/fake_typed_client.h"
#include "test/operator/service_builder.h"

namespace api = akrobateo::api;
namespace cache = akrobateo::cache;
namespace rec = akrobateo::reconcile;
using akrobateo::Error;
using akrobateo::ErrorKind;
using akrobateo::testing::FakeTypedClient;
using akrobateo::testing::LbService;
using Strings = std::vector<std::string>;

namespace {

constexpr const char* kNs = "akrobateo-system";
constexpr const char* kKey = "default/echo";

rec::ReconcilerOptions Options() {
  rec::ReconcilerOptions o;
  o.classes = {"akrobateo.dev/nftlb", true};
  o.daemonsets = {kNs, "akrobateo/nftlb:dev"};
  o.instance = "test";
  return o;
}

rec::ReconcilerOptions RecordingRequeues(
    std::vector<std::pair<std::string, std::chrono::milliseconds>>* requeued,
    rec::ReconcilerOptions o = Options()) {
  o.requeue_after = [requeued](const std::string& key, std::chrono::milliseconds delay) {
    requeued->emplace_back(key, delay);
  };
  return o;
}

// The caches, the fake API server and the reconciler over them.
struct World {
  cache::Store<api::Service> services;
  cache::Store<api::Node> nodes;
  cache::Store<api::EndpointSlice> slices{&cache::SliceService};
  cache::Store<api::ObservedDaemonSet> daemonsets{&cache::DaemonSetService};
  cache::Store<api::Pod> pods{&cache::PodServiceUid};
  cache::Store<api::PodCreateFailure> create_failures{&cache::PodCreateFailureDaemonSet};
  akrobateo::metrics::Metrics metrics;
  FakeTypedClient api;
  // The delayed re-adds the reconciler asked for (key, delay).
  std::vector<std::pair<std::string, std::chrono::milliseconds>> requeued;
  rec::Reconciler reconciler{
      &api, rec::Listers{&services, &nodes, &slices, &daemonsets, &pods, &create_failures},
      &metrics, RecordingRequeues(&requeued)};

  World() = default;
  explicit World(rec::ReconcilerOptions o)
      : reconciler{&api,
                   rec::Listers{&services, &nodes, &slices, &daemonsets, &pods, &create_failures},
                   &metrics, RecordingRequeues(&requeued, std::move(o))} {}

  // The Service in the cache and in the API server.
  void PutService(const api::Service& svc) {
    services.Upsert(cache::ServiceKey(svc), svc);
    api.PutService(svc);
  }
  // The DaemonSet in the cache and in the API server.
  void PutDaemonSet(const api::ObservedDaemonSet& ds) {
    daemonsets.Upsert(cache::DaemonSetKey(ds), ds);
    api.PutDaemonSet(ds);
  }
  // What the DaemonSet watch delivers once it has caught up with the fake.
  void WatchCatchesUp() {
    std::unordered_map<std::string, api::ObservedDaemonSet> all;
    for (const api::ObservedDaemonSet& ds : api.DaemonSets()) all[cache::DaemonSetKey(ds)] = ds;
    daemonsets.Replace(std::move(all));
  }
  akrobateo::Status Reconcile(const std::string& key = kKey) {
    akrobateo::Status s = reconciler.Reconcile(key);
    reconciler.FlushEvents();
    return s;
  }
  Strings Reasons() {
    Strings out;
    for (const auto& e : api.Events()) out.push_back(e.reason);
    return out;
  }
};

api::DaemonSet Desired(const api::Service& svc) {
  auto d = rec::BuildDaemonSet(svc, false, Options().daemonsets);
  REQUIRE_MESSAGE(d.ok(), d.error());
  return d->ds;
}

// The cached view of the DaemonSet the operator would write for `svc`, with another hash when
// `hash` is given.
api::ObservedDaemonSet Existing(const api::Service& svc, const std::string& rv,
                                const std::string& hash = "") {
  api::DaemonSet ds = Desired(svc);
  api::ObservedDaemonSet info;
  info.ns = kNs;
  info.name = ds.name;
  info.uid = "ds-uid";
  info.resource_version = rv;
  info.service_ns = svc.ns;
  info.service_name = svc.name;
  info.service_uid = svc.uid;
  info.spec_hash = hash.empty() ? api::SpecHash(ds) : hash;
  info.generation = 1;
  info.observed_generation = 1;
  info.desired_scheduled = 1;
  return info;
}

api::Pod ReadyPod(const api::Service& svc, const std::string& node) {
  api::Pod p;
  p.ns = kNs;
  p.name = "lb-" + node;
  p.service_ns = svc.ns;
  p.service_name = svc.name;
  p.service_uid = svc.uid;
  p.node_name = node;
  p.ready = true;
  return p;
}

api::Node MakeNode(const std::string& name, const std::string& ip) {
  api::Node n;
  n.name = name;
  n.internal_ips = {ip};
  return n;
}

bool Has(const Strings& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("Reconciler: a new LoadBalancer Service gets its DaemonSet created") {
  World w;
  api::Service svc = LbService();
  w.PutService(svc);
  REQUIRE(w.Reconcile().ok());
  std::string name = Desired(svc).name;
  CHECK(w.api.Writes() == Strings{"create akrobateo-system/" + name});
  auto ds = w.api.DaemonSet(std::string(kNs) + "/" + name);
  REQUIRE(ds);
  CHECK(ds->service_uid == svc.uid);
  CHECK(ds->spec_hash == api::SpecHash(Desired(svc)));
  CHECK(w.Reasons() == Strings{"AppliedDaemonSet"});
  // No pod is Ready and the status is empty already: no status write.
}

TEST_CASE(
    "Reconciler: a changed Service updates the DaemonSet in place, conditioned on its "
    "cached resourceVersion") {
  World w;
  api::Service svc = LbService();
  w.PutService(svc);
  w.PutDaemonSet(Existing(svc, "7", "an-older-hash"));
  REQUIRE(w.Reconcile().ok());
  std::string name = Desired(svc).name;
  CHECK(w.api.Writes() == Strings{"update akrobateo-system/" + name + " rv=7"});
  CHECK(w.api.DaemonSet(std::string(kNs) + "/" + name)->spec_hash == api::SpecHash(Desired(svc)));
  CHECK(w.Reasons() == Strings{"AppliedDaemonSet"});
}

TEST_CASE("Reconciler: nothing is written when the DaemonSet and the status are as wanted") {
  World w;
  api::Service svc = LbService();
  svc.ingress = {"172.18.0.3"};
  w.PutService(svc);
  w.PutDaemonSet(Existing(svc, "7"));
  w.nodes.Upsert("n1", MakeNode("n1", "172.18.0.3"));
  w.pods.Upsert("akrobateo-system/lb-n1", ReadyPod(svc, "n1"));
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Calls().empty());
  CHECK(w.api.Events().empty());
  // And again: still nothing.
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Calls().empty());
}

TEST_CASE(
    "Reconciler: Ready pods give the status their nodes' addresses, adopted into the "
    "cache at once") {
  World w;
  api::Service svc = LbService();
  w.PutService(svc);
  w.PutDaemonSet(Existing(svc, "7"));
  w.nodes.Upsert("n1", MakeNode("n1", "172.18.0.3"));
  w.nodes.Upsert("n2", MakeNode("n2", "172.18.0.10"));
  w.pods.Upsert("akrobateo-system/lb-n1", ReadyPod(svc, "n1"));
  w.pods.Upsert("akrobateo-system/lb-n2", ReadyPod(svc, "n2"));
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Writes() == Strings{"patch default/echo ingress=172.18.0.3,172.18.0.10 rv=1"});
  CHECK(w.Reasons() == Strings{"UpdatedLoadBalancer"});
  // The answer replaced the cached Service: the next reconcile sees its own write.
  auto cached = w.services.Get(kKey);
  REQUIRE(cached);
  CHECK(cached->ingress == Strings{"172.18.0.3", "172.18.0.10"});
  CHECK(cached->resource_version == w.api.Service(kKey)->resource_version);
  w.api.ClearLog();
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Calls().empty());
}

TEST_CASE("Reconciler: a restarting balancer keeps its listed node, and the key comes back") {
  World w;
  api::Service svc = LbService();
  svc.ingress = {"172.18.0.3"};
  w.PutService(svc);
  w.PutDaemonSet(Existing(svc, "7"));
  w.nodes.Upsert("n1", MakeNode("n1", "172.18.0.3"));
  api::Pod restarting = ReadyPod(svc, "n1");
  restarting.ready = false;
  restarting.not_ready_since = std::chrono::system_clock::now() - std::chrono::seconds(2);
  w.pods.Upsert("akrobateo-system/lb-n1", restarting);
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Calls().empty());  // the node stays: no status write, no event
  REQUIRE(w.requeued.size() == 1);
  CHECK(w.requeued[0].first == kKey);
  CHECK(w.requeued[0].second > std::chrono::seconds(0));
  CHECK(w.requeued[0].second <= rec::kRestartHold - std::chrono::seconds(1));

  // When the hold has run out, the recheck removes the node.
  restarting.not_ready_since = std::chrono::system_clock::now() - rec::kRestartHold;
  w.pods.Upsert("akrobateo-system/lb-n1", restarting);
  w.requeued.clear();
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Writes() == Strings{"patch default/echo ingress= rv=1"});
  CHECK(w.requeued.empty());
}

TEST_CASE("Reconciler: LoadBalancer -> ClusterIP clears the status, then deletes the DaemonSet") {
  World w;
  api::Service svc = LbService();
  svc.ingress = {"172.18.0.3"};
  w.PutService(svc);
  w.PutDaemonSet(Existing(svc, "7"));
  w.Reconcile();
  w.api.ClearLog();

  svc.type = "ClusterIP";
  svc.resource_version = "2";
  w.PutService(svc);
  REQUIRE(w.Reconcile().ok());
  std::string name = Desired(LbService()).name;
  Strings writes = w.api.Writes();
  REQUIRE(writes.size() == 3);
  CHECK(writes[0] == "patch default/echo ingress= rv=2");
  CHECK(writes[1] == "delete akrobateo-system/" + name);
  // Then the cleanup finalizer goes, conditioned on the version the status write made.
  int now_rv = std::stoi(w.api.Service(kKey)->resource_version);
  CHECK(writes[2] == "patch default/echo finalizers= rv=" + std::to_string(now_rv - 1));
  CHECK(!w.api.DaemonSet(std::string(kNs) + "/" + name));
  CHECK(w.api.Service(kKey)->ingress.empty());
  CHECK(w.api.Service(kKey)->finalizers.empty());
  CHECK(w.Reasons() == Strings{"DeletedDaemonSet"});
  // Once the watch has caught up, nothing is left to do.
  w.WatchCatchesUp();
  w.api.ClearLog();
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Calls().empty());
}

TEST_CASE("Reconciler: a class change hands the Service over; another class is never written") {
  World w;
  api::Service svc = LbService();
  svc.ingress = {"172.18.0.3"};
  svc.load_balancer_class = "example.com/other";
  w.PutService(svc);
  w.PutDaemonSet(Existing(LbService(), "7"));
  REQUIRE(w.Reconcile().ok());
  std::string name = Desired(LbService()).name;
  Strings writes = w.api.Writes();
  REQUIRE(writes.size() == 3);
  CHECK(writes[0] == "patch default/echo ingress= rv=1");
  CHECK(writes[1] == "delete akrobateo-system/" + name);
  CHECK(writes[2].rfind("patch default/echo finalizers= rv=", 0) == 0);

  // Without a DaemonSet of ours, the other controller's status (and finalizer) is left alone.
  World other;
  other.PutService(svc);
  REQUIRE(other.Reconcile().ok());
  CHECK(other.api.Calls().empty());
}

TEST_CASE("Reconciler: a Conflict on update re-reads the DaemonSet and retries") {
  World w;
  api::Service svc = LbService();
  w.PutService(svc);
  api::ObservedDaemonSet cached = Existing(svc, "7", "an-older-hash");
  w.daemonsets.Upsert(cache::DaemonSetKey(cached), cached);
  api::ObservedDaemonSet server = cached;
  server.resource_version = "8";  // someone wrote it since the cache saw it
  w.api.PutDaemonSet(server);
  REQUIRE(w.Reconcile().ok());
  std::string path = "akrobateo-system/" + Desired(svc).name;
  CHECK(w.api.Calls() ==
        Strings{"update " + path + " rv=7", "get " + path, "update " + path + " rv=8"});
  CHECK(w.Reasons() == Strings{"AppliedDaemonSet"});

  SUBCASE("the re-read shows it equal: no second write") {
    World v;
    v.PutService(svc);
    v.daemonsets.Upsert(cache::DaemonSetKey(cached), cached);
    api::ObservedDaemonSet done = Existing(svc, "9");
    v.api.PutDaemonSet(done);
    REQUIRE(v.Reconcile().ok());
    CHECK(v.api.Calls() == Strings{"update " + path + " rv=7", "get " + path});
  }
  SUBCASE("still conflicting after three attempts: an error, retried by the queue") {
    World v;
    v.PutService(svc);
    v.PutDaemonSet(cached);
    for (int i = 0; i < 3; ++i) v.api.FailNext("update", Error{"conflict", ErrorKind::kConflict});
    akrobateo::Status s = v.Reconcile();
    CHECK(s.Is(ErrorKind::kConflict));
    CHECK(s.error().find("still conflicting") != std::string::npos);
    CHECK(v.api.Writes().size() == 3);
  }
}

TEST_CASE("Reconciler: a create that finds the DaemonSet there already becomes an update") {
  World w;
  api::Service svc = LbService();
  w.PutService(svc);
  w.api.PutDaemonSet(Existing(svc, "5", "an-older-hash"));  // not in the cache yet
  REQUIRE(w.Reconcile().ok());
  std::string path = "akrobateo-system/" + Desired(svc).name;
  CHECK(w.api.Calls() == Strings{"create " + path, "get " + path, "update " + path + " rv=5"});
}

TEST_CASE("Reconciler: errors have kinds; a DaemonSet already gone counts as deleted") {
  World w;
  api::Service svc = LbService();
  svc.type = "ClusterIP";
  w.PutService(svc);
  api::ObservedDaemonSet ds = Existing(LbService(), "7");
  w.daemonsets.Upsert(cache::DaemonSetKey(ds), ds);  // the API server has it no more
  REQUIRE(w.Reconcile().ok());
  CHECK(w.Reasons().empty());  // no DeletedDaemonSet for what someone else deleted

  World f;
  f.PutService(LbService());
  f.api.FailNext("create", Error{"forbidden", ErrorKind::kForbidden});
  akrobateo::Status s = f.Reconcile();
  CHECK(s.Is(ErrorKind::kForbidden));
  CHECK(s.error().rfind("create daemonset ", 0) == 0);
}

TEST_CASE("Reconciler: the orphan sweep") {
  World w;
  api::Service kept = LbService();
  w.PutService(kept);
  w.PutDaemonSet(Existing(kept, "7"));
  // The DaemonSet of a Service that was deleted while the operator was away.
  api::Service gone = LbService("default", "gone", "uid-gone");
  w.PutDaemonSet(Existing(gone, "8"));
  // One that names no Service at all.
  api::ObservedDaemonSet nameless = Existing(LbService("default", "x", "uid-x"), "9");
  nameless.name = "akrobateo-nameless";
  nameless.service_ns.clear();
  nameless.service_name.clear();
  nameless.service_uid.clear();
  w.PutDaemonSet(nameless);

  Strings keys = w.reconciler.ResyncKeys();
  CHECK(Has(keys, "default/echo"));
  CHECK(Has(keys, "default/gone"));
  CHECK(w.api.Writes() == Strings{"delete akrobateo-system/akrobateo-nameless"});

  w.api.ClearLog();
  for (const std::string& k : keys) REQUIRE(w.Reconcile(k).ok());
  CHECK(w.api.Writes() == Strings{"delete akrobateo-system/" + Desired(gone).name});
  CHECK(w.api.DaemonSet("akrobateo-system/" + Desired(kept).name));
}

TEST_CASE("Reconciler: the newer of two Services on one port is blocked, then freed") {
  World w;
  api::Service old_svc = LbService("default", "echo", "uid-1");
  api::Service new_svc = LbService("default", "web", "uid-2");
  new_svc.creation_timestamp = "2026-11-21T08:00:00Z";
  w.PutService(old_svc);
  w.PutService(new_svc);
  REQUIRE(w.Reconcile("default/web").ok());
  CHECK(w.api.Writes().empty());
  CHECK(w.Reasons() == Strings{"PortConflict"});
  CHECK(w.reconciler.BlockedKeys() == Strings{"default/web"});
  // The same conflict again: no second Warning.
  REQUIRE(w.Reconcile("default/web").ok());
  CHECK(w.api.Events().size() == 1);

  // The holder goes: the next reconcile of the blocked one (the Service handler enqueues
  // BlockedKeys on any Service change) creates its DaemonSet.
  w.services.Erase("default/echo");
  REQUIRE(w.Reconcile("default/web").ok());
  CHECK(w.api.Writes() == Strings{"create akrobateo-system/" + Desired(new_svc).name});
  CHECK(w.reconciler.BlockedKeys().empty());
}

TEST_CASE("Plan: pure decisions, without a client") {
  rec::PlanOptions opts{Options().classes, Options().daemonsets, {}, false};
  rec::PlanInput in;
  in.key = kKey;
  SUBCASE("a deleted Service: its DaemonSets go, its warnings are forgotten") {
    in.daemonsets = {Existing(LbService(), "7")};
    rec::ReconcilePlan p = rec::Plan(in, opts);
    CHECK(!p.clear_status);
    REQUIRE(p.deletions.size() == 1);
    CHECK(p.deletions[0].on_deleted.empty());  // no Service to hang an Event on
    CHECK(p.before == std::vector<rec::Notice>{rec::Notice::ForgetService()});
    CHECK(!p.apply);
    CHECK(!p.status);
  }
  SUBCASE("no usable port: a Warning, no DaemonSet, an empty status") {
    api::Service svc = LbService();
    svc.ports.clear();
    svc.ingress = {"172.18.0.3"};
    in.service = svc;
    rec::ReconcilePlan p = rec::Plan(in, opts);
    CHECK(!p.apply);
    REQUIRE(p.status);
    CHECK(p.status->ingress.empty());
    CHECK(std::any_of(p.before.begin(), p.before.end(), [](const rec::Notice& n) {
      return n.kind == rec::Notice::Kind::kWarning && n.reason == "UnavailableLoadBalancer";
    }));
  }
}

TEST_CASE("Reconciler: a refused DaemonSet reaches the Service and releases its ports") {
  World w;
  api::Service old_svc = LbService("team-a", "broken", "uid-1");
  api::Service new_svc = LbService("team-b", "web", "uid-2");
  new_svc.creation_timestamp = "2026-11-21T08:00:00Z";
  w.PutService(old_svc);
  w.PutService(new_svc);
  REQUIRE(w.Reconcile("team-b/web").ok());
  CHECK(w.reconciler.BlockedKeys() == Strings{"team-b/web"});

  // The API refuses the older Service's DaemonSet: its Service hears the API's words once,
  // and the port it claimed goes to the newer one at once.
  const std::string message =
      "POST .../daemonsets: HTTP 422: DaemonSet.apps \"x\" is invalid: spec.template...";
  w.api.FailNext("create", Error{message, ErrorKind::kInvalid});
  CHECK_FALSE(w.Reconcile("team-a/broken").ok());
  auto events = w.api.Events();
  REQUIRE(events.size() == 2);  // PortConflict (team-b), then the failure (team-a)
  CHECK(events[1].type == "Warning");
  CHECK(events[1].reason == "FailedApplyDaemonSet");
  CHECK(events[1].note.find(message) != std::string::npos);
  CHECK(w.reconciler.BlockedKeys().empty());
  CHECK(std::count_if(w.requeued.begin(), w.requeued.end(),
                      [](const auto& r) { return r.first == "team-b/web"; }) == 1);
  REQUIRE(w.Reconcile("team-b/web").ok());
  CHECK(Has(w.api.Writes(), "create akrobateo-system/" + Desired(new_svc).name));

  // The same failure again: no second Warning (the queue's backoff paces the retries).
  w.api.FailNext("create", Error{message, ErrorKind::kInvalid});
  size_t before = w.api.Events().size();
  CHECK_FALSE(w.Reconcile("team-a/broken").ok());
  CHECK(w.api.Events().size() == before);
}

TEST_CASE("Reconciler: a transient failure keeps the claim; only refusals release it") {
  World w;
  api::Service old_svc = LbService("team-a", "echo", "uid-1");
  api::Service new_svc = LbService("team-b", "web", "uid-2");
  new_svc.creation_timestamp = "2026-11-21T08:00:00Z";
  w.PutService(old_svc);
  w.PutService(new_svc);
  w.api.FailNext("create", Error{"HTTP 503", ErrorKind::kTransient});
  CHECK_FALSE(w.Reconcile("team-a/echo").ok());
  REQUIRE(w.Reconcile("team-b/web").ok());
  CHECK(w.reconciler.BlockedKeys() == Strings{"team-b/web"});
}

TEST_CASE(
    "Reconciler: a PriorityClass that does not exist is the Service's Warning, no DaemonSet") {
  rec::ReconcilerOptions o = Options();
  o.daemonsets.priority_class = "akrobateo-balancer";
  o.policy.trusted_namespaces = {"team-a"};
  World w(o);
  api::Service svc = LbService("team-a", "web");
  svc.priority_class = "gold";
  w.PutService(svc);
  w.api.RemovePriorityClass("gold");
  CHECK_FALSE(w.Reconcile("team-a/web").ok());
  CHECK(w.api.Writes().empty());
  auto events = w.api.Events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].reason == "FailedApplyDaemonSet");
  CHECK(events[0].note.find("PriorityClass \"gold\" does not exist") != std::string::npos);
  // The admin's default exists: the Service without the annotation is served.
  svc.priority_class.reset();
  svc.resource_version = "2";
  w.PutService(svc);
  REQUIRE(w.Reconcile("team-a/web").ok());
  CHECK(w.api.Writes().size() == 1);
  CHECK(Has(w.api.Calls(), "get priorityclass akrobateo-balancer"));
}

TEST_CASE("Reconciler: an LB port on another Service's nodePort is refused; the status says so") {
  rec::ReconcilerOptions o = Options();
  o.policy.reserved_ports = *rec::PortRanges::Parse("22,10250");
  World w(o);
  api::Service np = LbService("team-a", "db", "uid-1");
  np.type = "NodePort";
  np.node_ports = {30306};
  w.PutService(np);
  api::Service svc = LbService("team-b", "web", "uid-2");
  svc.ports = {{"db", "TCP", 30306, 31000}, {"web", "TCP", 8080, 31001}};
  svc.node_ports = {31000, 31001};
  w.PutService(svc);
  REQUIRE(w.Reconcile("team-b/web").ok());
  auto ds = w.api.DaemonSet(std::string(kNs) + "/" + Desired(svc).name);
  REQUIRE(ds);
  CHECK(Has(w.Reasons(), "NodePortInUse"));
  // Its pod turns Ready on a node: the address is published with the port's error.
  w.WatchCatchesUp();
  w.nodes.Upsert("n1", MakeNode("n1", "172.18.0.3"));
  w.pods.Upsert("akrobateo-system/lb-n1", ReadyPod(svc, "n1"));
  REQUIRE(w.Reconcile("team-b/web").ok());
  CHECK(
      Has(w.api.Writes(),
          "patch team-b/web ingress=172.18.0.3 ipMode=Proxy TCP/30306!akrobateo.dev/NodePortInUse "
          "TCP/8080 rv=" +
              svc.resource_version));
}

TEST_CASE("Reconciler: without --cleanup-finalizer, none is added") {
  World w;
  api::Service svc = LbService();
  svc.finalizers.clear();
  w.PutService(svc);
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Writes() == Strings{"create akrobateo-system/" + Desired(svc).name});
}

TEST_CASE("Reconciler: the cleanup finalizer comes before the DaemonSet") {
  rec::ReconcilerOptions o = Options();
  o.cleanup_finalizer = true;
  World w(o);
  api::Service svc = LbService();
  svc.finalizers = {"example.com/keep"};
  w.PutService(svc);
  REQUIRE(w.Reconcile().ok());
  Strings writes = w.api.Writes();
  REQUIRE(writes.size() == 2);
  CHECK(writes[0] == "patch default/echo finalizers=example.com/keep," +
                         std::string(akrobateo::names::kCleanupFinalizer) + " rv=1");
  CHECK(writes[1] == "create akrobateo-system/" + Desired(svc).name);
  // Adopted into the cache: the next reconcile has nothing to add.
  CHECK(w.services.Get(kKey)->finalizers.size() == 2);
  w.WatchCatchesUp();
  w.api.ClearLog();
  REQUIRE(w.Reconcile().ok());
  CHECK(w.api.Writes().empty());
}

TEST_CASE("Reconciler: a Service being deleted loses its DaemonSet, then the finalizer") {
  World w;
  api::Service svc = LbService();
  svc.ingress = {"172.18.0.3"};
  svc.finalizers = {std::string(akrobateo::names::kCleanupFinalizer), "example.com/keep"};
  w.PutService(svc);
  w.PutDaemonSet(Existing(svc, "7"));
  svc.being_deleted = true;
  w.PutService(svc);
  REQUIRE(w.Reconcile().ok());
  // No status write for a Service on its way out; the other finalizer stays.
  CHECK(w.api.Writes() == Strings{"delete akrobateo-system/" + Desired(svc).name,
                                  "patch default/echo finalizers=example.com/keep rv=1"});
  // The DaemonSet delete failing keeps the finalizer (the queue retries).
  World w2;
  w2.PutService(svc);
  w2.PutDaemonSet(Existing(svc, "7"));
  w2.api.FailNext("delete", Error{"HTTP 503", ErrorKind::kTransient});
  CHECK_FALSE(w2.Reconcile().ok());
  CHECK(w2.api.Writes() == Strings{"delete akrobateo-system/" + Desired(svc).name});
}

TEST_CASE("Reconciler: pods the DaemonSet controller cannot create are the Service's Warning") {
  World w;
  api::Service svc = LbService("team-a", "web");
  w.PutService(svc);
  api::ObservedDaemonSet ds = Existing(svc, "7");
  ds.desired_scheduled = 3;
  ds.current_scheduled = 1;
  w.PutDaemonSet(ds);
  const std::string quota =
      "Error creating: pods \"x\" is forbidden: exceeded quota: pods, requested: pods=1, used: "
      "pods=1, limited: pods=1";
  api::PodCreateFailure f{kNs, "ev-1", ds.uid, quota, std::chrono::system_clock::now()};
  w.create_failures.Upsert(cache::PodCreateFailureKey(f), f);
  REQUIRE(w.Reconcile("team-a/web").ok());
  auto warned = [&] {
    size_t n = 0;
    for (const auto& e : w.api.Events()) {
      if (e.reason == "FailedCreatePod") {
        CHECK(e.type == "Warning");
        CHECK(e.note.find("for 2 of 3 nodes") != std::string::npos);
        CHECK(e.note.find(quota) != std::string::npos);
        ++n;
      }
    }
    return n;
  };
  CHECK(warned() == 1);
  // The controller retries; the Event repeats; the Service hears it once.
  f.last_seen += std::chrono::seconds(30);
  w.create_failures.Upsert(cache::PodCreateFailureKey(f), f);
  REQUIRE(w.Reconcile("team-a/web").ok());
  CHECK(warned() == 1);
  // The admin raises the quota: every node has its pod, the old Event is history; should the
  // quota bite again later, the Service hears it again.
  ds.current_scheduled = 3;
  w.PutDaemonSet(ds);
  REQUIRE(w.Reconcile("team-a/web").ok());
  CHECK(warned() == 1);
  ds.current_scheduled = 1;
  w.PutDaemonSet(ds);
  REQUIRE(w.Reconcile("team-a/web").ok());
  CHECK(warned() == 2);
}
