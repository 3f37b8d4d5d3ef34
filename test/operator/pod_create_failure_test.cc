// SPDX-License-Identifier: Apache-2.0
// The Warning FailedCreatePod: why the DaemonSet controller could not create balancer pods.
#include "operator/reconcile/pod_create_failure.h"

#include <doctest/doctest.h>

#include <optional>

namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::from_time_t(1796630400);  // 2026-12-07T08:00:00Z

const char* kQuota =
    "Error creating: pods \"akrobateo-echo-x\" is forbidden: exceeded quota: pods, requested: "
    "pods=1, used: pods=2, limited: pods=2";
const char* kPodSecurity =
    "Error creating: pods \"akrobateo-echo-y\" is forbidden: violates PodSecurity "
    "\"baseline:latest\": hostPort (container \"nftlb\" uses hostPort 80)";

// The messages as the Warning quotes them: the generated pod name as "<daemonset>-*".
std::string Quoted(std::string message) {
  size_t at = message.find("akrobateo-echo-");
  message.replace(at + 15, 1, "*");
  return message;
}

api::ObservedDaemonSet Ds(int64_t desired, int64_t current) {
  api::ObservedDaemonSet d;
  d.ns = "akrobateo-system";
  d.name = "akrobateo-echo";
  d.uid = "ds-uid";
  d.desired_scheduled = desired;
  d.current_scheduled = current;
  return d;
}

api::PodCreateFailure Failure(const std::string& name, const std::string& message,
                              std::chrono::system_clock::time_point seen,
                              const std::string& uid = "ds-uid") {
  return {"akrobateo-system", name, uid, message, seen};
}

}  // namespace

TEST_CASE("PodCreateFailureWarning: table") {
  struct Case {
    const char* name;
    api::ObservedDaemonSet ds;
    std::vector<api::PodCreateFailure> events;
    std::optional<std::string> want;
  };
  const std::string head = "the DaemonSet controller cannot create the balancer pod";
  const Case cases[] = {
      {"every node has its pod: an old Event is history",
       Ds(3, 3),
       {Failure("e1", kQuota, kNow - seconds(5))},
       std::nullopt},
      {"pods missing, no Event: the controller has not tried yet", Ds(3, 1), {}, std::nullopt},
      {"pods missing, an Event of another DaemonSet",
       Ds(3, 1),
       {Failure("e1", kQuota, kNow, "other-uid")},
       std::nullopt},
      {"pods missing, the Event is older than the freshness window",
       Ds(3, 1),
       {Failure("e1", kQuota, kNow - rec::kCreateFailureFreshness - seconds(1))},
       std::nullopt},
      {"one of three missing: the quota's message",
       Ds(3, 2),
       {Failure("e1", kQuota, kNow - minutes(1))},
       head + " for 1 of 3 nodes (DaemonSet akrobateo-system/akrobateo-echo): " + Quoted(kQuota)},
      {"all missing on one node",
       Ds(1, 0),
       {Failure("e1", kPodSecurity, kNow)},
       head +
           " for 1 of 1 node (DaemonSet akrobateo-system/akrobateo-echo): " + Quoted(kPodSecurity)},
      {"two Events: the newest is quoted",
       Ds(2, 0),
       {Failure("e1", kQuota, kNow - minutes(3)), Failure("e2", kPodSecurity, kNow - minutes(1))},
       head + "s for 2 of 2 nodes (DaemonSet akrobateo-system/akrobateo-echo): " +
           Quoted(kPodSecurity)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(rec::PodCreateFailureWarning(c.ds, c.events, kNow) == c.want);
  }
}

TEST_CASE("PodCreateFailureWarning: each retry's pod name is left out, so a refusal is one note") {
  const std::string a =
      "Error creating: pods \"akrobateo-echo-zckn4\" is forbidden: exceeded quota: pods";
  const std::string b =
      "Error creating: pods \"akrobateo-echo-c57p4\" is forbidden: exceeded quota: pods";
  auto first = rec::PodCreateFailureWarning(Ds(1, 0), {Failure("e1", a, kNow)}, kNow);
  auto second = rec::PodCreateFailureWarning(Ds(1, 0), {Failure("e2", b, kNow)}, kNow);
  REQUIRE(first.has_value());
  CHECK(first == second);
  CHECK(first->find("pods \"akrobateo-echo-*\" is forbidden: exceeded quota: pods") !=
        std::string::npos);
}

TEST_CASE("PodCreateFailureWarning: the note does not depend on the cache's order") {
  // Two Events seen in the same second: the name decides, so reconciles agree.
  std::vector<api::PodCreateFailure> a = {Failure("e1", kQuota, kNow),
                                          Failure("e2", kPodSecurity, kNow)};
  std::vector<api::PodCreateFailure> b = {a[1], a[0]};
  auto first = rec::PodCreateFailureWarning(Ds(2, 0), a, kNow);
  REQUIRE(first.has_value());
  CHECK(first == rec::PodCreateFailureWarning(Ds(2, 0), b, kNow));
  CHECK(first->find(Quoted(kPodSecurity)) != std::string::npos);
}
