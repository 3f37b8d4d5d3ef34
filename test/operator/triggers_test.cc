// SPDX-License-Identifier: Apache-2.0
// The watch handlers' filter (reconcile/triggers.h): a change it drops must not change any
// decision a reconcile takes from the pods or the DaemonSet.
#include "operator/reconcile/triggers.h"

#include <doctest/doctest.h>

#include <random>

#include "operator/queue/work_queue.h"
#include "operator/reconcile/ingress.h"
#include "operator/reconcile/unschedulable.h"
#include "test/operator/fake_clock.h"
#include "test/operator/service_builder.h"

namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;

namespace {

const auto kNow = std::chrono::system_clock::now();

api::Pod BalancerPod(const std::string& name) {
  api::Pod p;
  p.ns = "akrobateo-system";
  p.name = name;
  p.service_ns = "default";
  p.service_name = "echo";
  p.service_uid = "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c";
  return p;
}

api::ObservedDaemonSet Managed() {
  api::ObservedDaemonSet d;
  d.ns = "akrobateo-system";
  d.name = "akrobateo-default-echo-5f0c3f7a9b";
  d.uid = "d1";
  d.resource_version = "100";
  d.service_ns = "default";
  d.service_name = "echo";
  d.service_uid = "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c";
  d.spec_hash = "abc";
  d.generation = 1;
  d.observed_generation = 1;
  d.desired_scheduled = 3;
  return d;
}

}  // namespace

TEST_CASE("Triggers: a balancer pod's way to Ready") {
  api::Pod created = BalancerPod("p1");
  created.target_node = "node-a";
  api::Pod bound = created;
  bound.node_name = "node-a";
  api::Pod ready = bound;
  ready.ready = true;

  CHECK(rec::PodChangeMatters(nullptr, &created));       // one more pod
  CHECK_FALSE(rec::PodChangeMatters(&created, &bound));  // bound, still not Ready: no decision
  CHECK(rec::PodChangeMatters(&bound, &ready));          // counts for the status now
  CHECK(rec::PodChangeMatters(&ready, &bound));          // and no longer
  CHECK(rec::PodChangeMatters(&ready, nullptr));         // deleted

  api::Pod pending = created;
  pending.unschedulable = true;
  pending.scheduler_message = "0/3 nodes are available: 1 node(s) didn't have free ports";
  CHECK(rec::PodChangeMatters(&created, &pending));  // the warning quotes it
  api::Pod reworded = pending;
  reworded.scheduler_message = "0/3 nodes are available: 3 node(s) didn't have free ports";
  CHECK(rec::PodChangeMatters(&pending, &reworded));
}

// The watch handler's order, on the queue and a clock the test steps: a Service's first address
// is reconciled the moment its first pod is Ready; what follows waits for the coalescing window.
TEST_CASE("Triggers: the first Ready pod of a Service without an address is reconciled at once") {
  using namespace std::chrono_literals;
  constexpr auto kCoalesce = 250ms;
  akrobateo::testing::FakeClock clock;
  akrobateo::queue::WorkQueue q(&clock);
  api::Service svc = akrobateo::testing::LbService();
  svc.uid = BalancerPod("p").service_uid;
  const std::string key = svc.ns + "/" + svc.name;
  // What the handler does with a change that matters (operator/controller.cc, OnChangePod).
  auto on_change = [&](const api::Pod* old, const api::Pod* now) {
    REQUIRE(rec::PodChangeMatters(old, now));
    q.AddAfter(key, rec::PodChangeDelay(old, now, &svc, kCoalesce));
  };
  // Whether the Service's key is handed out now, without time passing: a marker is added, and
  // every key handed out up to it and any made due meanwhile (Get promotes all due keys) is
  // taken. The marker is always there, so no Get() blocks.
  auto due_now = [&] {
    q.Add("marker");
    bool due = false;
    for (std::string k; k != "marker";) {
      k = *q.Get();
      q.Done(k);
      due = due || k == key;
    }
    while (q.Len() > 0) {
      const std::string k = *q.Get();
      q.Done(k);
      due = due || k == key;
    }
    return due;
  };

  api::Pod bound = BalancerPod("p1");
  bound.node_name = "node-a";
  api::Pod ready = bound;
  ready.ready = true;
  REQUIRE(svc.ingress.empty());
  on_change(&bound, &ready);
  CHECK(due_now());  // no time passed

  // The status lists that node now: the second pod waits the window out.
  svc.ingress = {"192.0.2.10"};
  api::Pod bound2 = BalancerPod("p2");
  bound2.node_name = "node-b";
  api::Pod ready2 = bound2;
  ready2.ready = true;
  on_change(&bound2, &ready2);
  clock.Step(kCoalesce - 1ms);
  CHECK_FALSE(due_now());
  clock.Step(1ms);
  CHECK(due_now());

  // Without an address, only a pod turning Ready skips the window: a pod that goes away or turns
  // unready, or one that is Ready but being deleted, waits.
  svc.ingress.clear();
  on_change(&ready, &bound);
  CHECK_FALSE(due_now());
  clock.Step(kCoalesce);
  CHECK(due_now());
  api::Pod leaving = ready;
  leaving.deleting_since = kNow;
  on_change(&bound, &leaving);
  CHECK_FALSE(due_now());
  clock.Step(kCoalesce);
  CHECK(due_now());
  // A pod of an earlier Service of the same name (another UID) waits too.
  api::Pod stale = ready;
  stale.service_uid = "0a0b0c0d-0000-4000-8000-000000000000";
  api::Pod stale_bound = bound;
  stale_bound.service_uid = stale.service_uid;
  on_change(&stale_bound, &stale);
  CHECK_FALSE(due_now());
  clock.Step(kCoalesce);
  CHECK(due_now());
  // And without the Service in the cache there is nothing to compare: the window.
  CHECK(rec::PodChangeDelay(&bound, &ready, nullptr, kCoalesce) == kCoalesce);
  q.ShutDown();
}

TEST_CASE("Triggers: the DaemonSet controller's status counters") {
  api::ObservedDaemonSet before = Managed();
  api::ObservedDaemonSet counted = before;
  counted.resource_version = "101";
  counted.number_ready = 2;
  CHECK_FALSE(rec::DaemonSetChangeMatters(&before, &counted));
  CHECK(rec::DaemonSetChangeMatters(nullptr, &before));
  CHECK(rec::DaemonSetChangeMatters(&before, nullptr));

  api::ObservedDaemonSet none_may_run = counted;
  none_may_run.desired_scheduled = 0;  // "no node may run the balancer DaemonSet"
  CHECK(rec::DaemonSetChangeMatters(&counted, &none_may_run));
  api::ObservedDaemonSet edited = counted;
  edited.spec_hash = "def";  // someone changed the annotation: re-apply
  CHECK(rec::DaemonSetChangeMatters(&counted, &edited));
  api::ObservedDaemonSet observed = counted;
  observed.generation = 2;
  CHECK(rec::DaemonSetChangeMatters(&counted, &observed));
}

// Random pod updates: whenever the filter says "does not matter", the status and the Pending
// warning computed with the old and with the new pod are the same.
TEST_CASE("Triggers: a dropped pod change never changes the status or the warning") {
  const api::Service svc = akrobateo::testing::LbService();
  std::vector<api::Node> nodes(3);
  const char* names[] = {"node-a", "node-b", "node-c"};
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].name = names[i];
    nodes[i].internal_ips = {"192.0.2." + std::to_string(10 + i)};
  }
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto random_pod = [&](const std::string& name) {
    api::Pod p = BalancerPod(name);
    const char* maybe_node[] = {"", "node-a", "node-b", "node-c"};
    p.node_name = maybe_node[pick(4)];
    p.target_node = maybe_node[pick(4)];
    p.ready = pick(2) == 1;
    p.unschedulable = pick(3) == 0;
    if (p.unschedulable) p.scheduler_message = pick(2) ? "didn't have free ports" : "taint";
    return p;
  };
  int dropped = 0;
  for (int i = 0; i < 5000; ++i) {
    std::vector<api::Pod> pods = {random_pod("p1"), random_pod("p2"), random_pod("p3")};
    const size_t k = static_cast<size_t>(pick(3));
    api::Pod now = random_pod(pods[k].name);
    if (rec::PodChangeMatters(&pods[k], &now)) continue;
    ++dropped;
    std::vector<api::Pod> after = pods;
    after[k] = now;
    CHECK(rec::DesiredIngress(svc, pods, nodes, {}, kNow).ingress ==
          rec::DesiredIngress(svc, after, nodes, {}, kNow).ingress);
    CHECK(rec::UnschedulableWarning(pods) == rec::UnschedulableWarning(after));
  }
  CHECK(dropped > 100);  // the property was exercised, not skipped
}
