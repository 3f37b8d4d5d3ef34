// SPDX-License-Identifier: Apache-2.0
// The Warning UnavailableLoadBalancer for balancer pods the scheduler cannot place.
#include "operator/reconcile/unschedulable.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>

namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;

namespace {

const char* kPorts =
    "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 2 "
    "node(s) didn't satisfy plugin(s) [NodeAffinity].";
const char* kCpu = "0/3 nodes are available: 1 Insufficient cpu.";

api::Pod Ready(const std::string& node) {
  api::Pod p;
  p.name = "lb-" + node;
  p.node_name = node;
  p.ready = true;
  return p;
}

api::Pod Starting(const std::string& node) {
  api::Pod p = Ready(node);
  p.ready = false;
  return p;
}

api::Pod Stuck(const std::string& node, const std::string& message = kPorts) {
  api::Pod p;
  p.name = "lb-" + node;
  p.target_node = node;
  p.unschedulable = true;
  p.scheduler_message = message;
  return p;
}

}  // namespace

TEST_CASE("UnschedulableWarning: table") {
  using Pods = std::vector<api::Pod>;
  std::string ports = kPorts;
  struct Case {
    const char* what;
    Pods pods;
    std::optional<std::string> want;
  };
  std::vector<Case> cases = {
      {"no pods", {}, std::nullopt},
      {"all ready", {Ready("a"), Ready("b")}, std::nullopt},
      // Still starting is not a scheduling problem: nothing to say yet.
      {"starting, not ready", {Starting("a"), Starting("b")}, std::nullopt},
      {"the only pod cannot be scheduled",
       {Stuck("node-b")},
       "no balancer pod is ready: 1 of 1 pod is Pending, cannot be scheduled on node node-b: " +
           ports},
      {"none ready, one stuck, others starting",
       {Starting("node-a"), Stuck("node-b"), Starting("node-c")},
       "no balancer pod is ready: 1 of 3 pods is Pending, cannot be scheduled on node node-b: " +
           ports},
      {"none ready, all stuck",
       {Stuck("node-c"), Stuck("node-a"), Stuck("node-b")},
       "no balancer pod is ready: 3 of 3 pods are Pending, cannot be scheduled on nodes node-a, "
       "node-b, node-c: " +
           ports},
      // Some ready: the Service answers on fewer nodes; say which do not.
      {"partial",
       {Ready("node-a"), Stuck("node-b"), Ready("node-c")},
       "2 of 3 balancer pods are ready; 1 of 3 pods is Pending, cannot be scheduled on node "
       "node-b, so the Service does not answer there: " +
           ports},
      {"partial, one ready",
       {Ready("node-a"), Stuck("node-b"), Stuck("node-c")},
       "1 of 3 balancer pods is ready; 2 of 3 pods are Pending, cannot be scheduled on nodes "
       "node-b, node-c, so the Service does not answer there: " +
           ports},
      {"the message quoted is the first node's, whatever the cache order",
       {Stuck("node-z", kCpu), Stuck("node-b")},
       "no balancer pod is ready: 2 of 2 pods are Pending, cannot be scheduled on nodes node-b, "
       "node-z: " +
           ports},
      {"no target node, no scheduler message",
       {Stuck("", "")},
       "no balancer pod is ready: 1 of 1 pod is Pending, cannot be scheduled: (the scheduler gave "
       "no message)"},
      {"at most five nodes named",
       {Stuck("n1"), Stuck("n2"), Stuck("n3"), Stuck("n4"), Stuck("n5"), Stuck("n6"), Stuck("n7")},
       "no balancer pod is ready: 7 of 7 pods are Pending, cannot be scheduled on nodes n1, n2, "
       "n3, "
       "n4, n5 and 2 more: " +
           ports},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    CHECK(rec::UnschedulableWarning(c.pods) == c.want);
  }
}

TEST_CASE("UnschedulableWarning: same situation, same note; a change gives another note") {
  std::vector<api::Pod> pods = {Ready("node-a"), Stuck("node-b"), Ready("node-c")};
  std::optional<std::string> first = rec::UnschedulableWarning(pods);
  REQUIRE(first);
  std::reverse(pods.begin(), pods.end());
  CHECK(rec::UnschedulableWarning(pods) == first);
  pods[0] = Stuck("node-c");
  CHECK(rec::UnschedulableWarning(pods) != first);
}
