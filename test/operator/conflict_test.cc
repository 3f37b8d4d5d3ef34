// SPDX-License-Identifier: Apache-2.0
// Port conflicts between handled Services and the orphan sweep selection.
#include "operator/reconcile/conflict.h"

#include <doctest/doctest.h>

#include <map>
#include <random>

#include "operator/reconcile/desired.h"
#include "operator/reconcile/orphans.h"
#include "test/operator/service_builder.h"

using akrobateo::testing::LbService;
namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;

namespace {

api::Service Svc(const std::string& name, const std::string& created,
                 std::vector<api::ServicePort> ports, const std::string& pool = "") {
  api::Service s = LbService("default", name, "uid-" + name);
  s.creation_timestamp = created;
  s.ports = std::move(ports);
  s.lb_pool = pool;
  return s;
}

std::map<std::string, rec::PortConflict> Find(const std::vector<api::Service>& svcs) {
  std::vector<const api::Service*> ptrs;
  for (const api::Service& s : svcs) ptrs.push_back(&s);
  return rec::FindPortConflicts(ptrs);
}

}  // namespace

TEST_CASE("Port conflicts: the older Service keeps the port; the newer is blocked and names it") {
  auto older = Svc("a", "2026-11-20T08:00:00Z", {{"", "TCP", 80, 0}});
  auto newer = Svc("b", "2026-11-21T08:00:00Z", {{"", "TCP", 443, 0}, {"", "TCP", 80, 0}});
  // Input order must not matter.
  for (auto input : {std::vector{older, newer}, std::vector{newer, older}}) {
    auto blocked = Find(input);
    REQUIRE(blocked.size() == 1);
    CHECK(blocked.at("default/b") == rec::PortConflict{"default/a", "TCP", 80});
  }
}

TEST_CASE("Port conflicts: table") {
  struct Case {
    const char* what;
    std::vector<api::Service> svcs;
    std::vector<std::string> blocked;
  };
  std::vector<Case> cases = {
      {"same port, other protocol",
       {Svc("a", "1", {{"", "TCP", 53, 0}}), Svc("b", "2", {{"", "UDP", 53, 0}})},
       {}},
      {"different pools never overlap",
       {Svc("a", "1", {{"", "TCP", 80, 0}}, "x"), Svc("b", "2", {{"", "TCP", 80, 0}}, "y")},
       {}},
      {"same pool overlaps",
       {Svc("a", "1", {{"", "TCP", 80, 0}}, "x"), Svc("b", "2", {{"", "TCP", 80, 0}}, "x")},
       {"default/b"}},
      {"unpooled overlaps every pool",
       {Svc("a", "1", {{"", "TCP", 80, 0}}, "x"), Svc("b", "2", {{"", "TCP", 80, 0}})},
       {"default/b"}},
      {"same timestamp: namespace/name decides",
       {Svc("z", "1", {{"", "TCP", 80, 0}}), Svc("m", "1", {{"", "TCP", 80, 0}})},
       {"default/z"}},
      // b is blocked by a, so it holds nothing: c (which only collides with b) runs.
      {"a blocked Service holds no port",
       {Svc("a", "1", {{"", "TCP", 80, 0}}),
        Svc("b", "2", {{"", "TCP", 80, 0}, {"", "TCP", 90, 0}}),
        Svc("c", "3", {{"", "TCP", 90, 0}})},
       {"default/b"}},
      {"protocol case does not matter",
       {Svc("a", "1", {{"", "TCP", 80, 0}}), Svc("b", "2", {{"", "tcp", 80, 0}})},
       {"default/b"}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    std::vector<std::string> got;
    for (const auto& [k, v] : Find(c.svcs)) got.push_back(k);
    CHECK(got == c.blocked);
  }
}

TEST_CASE("Port conflicts: the claims the reconciler keeps give the same table as the Services") {
  std::vector<api::Service> svcs = {
      Svc("a", "1", {{"http", "TCP", 80, 30080}}), Svc("b", "2", {{"", "tcp", 80, 0}}, "x"),
      Svc("c", "", {{"", "UDP", 53, 0}}), Svc("d", "3", {{"", "UDP", 53, 0}, {"", "TCP", 81, 0}})};
  rec::PortClaim b = rec::ClaimOf(svcs[1]);
  CHECK(b == rec::PortClaim{"default", "b", "2", "x", {{"tcp", 80}}});
  std::vector<rec::PortClaim> claims;
  for (const api::Service& s : svcs) claims.push_back(rec::ClaimOf(s));
  std::vector<const rec::PortClaim*> ptrs;
  for (const rec::PortClaim& c : claims) ptrs.push_back(&c);
  auto blocked = rec::FindPortConflicts(ptrs);
  CHECK(blocked == Find(svcs));
  // c has no timestamp, so it sorts last: d keeps UDP/53.
  CHECK(blocked ==
        std::map<std::string, rec::PortConflict>{{"default/b", {"default/a", "tcp", 80}},
                                                 {"default/c", {"default/d", "UDP", 53}}});
}

TEST_CASE("Port conflicts: PortClaims kept change by change gives FindPortConflicts' table") {
  // Random Service changes (add, change ports or pool, delete) over a few names and ports; after
  // each, the incremental table must equal the table computed from every claim.
  std::mt19937 rng(7);
  auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const char* protocols[] = {"TCP", "tcp", "UDP"};
  const char* pools[] = {"", "", "x", "y"};
  rec::PortClaims incremental;
  std::map<std::string, rec::PortClaim> all;
  size_t nonempty = 0;
  for (int step = 0; step < 3000; ++step) {
    std::string name = "s" + std::to_string(pick(12));
    std::string key = "default/" + name;
    if (pick(4) == 0) {
      incremental.Erase(key);
      all.erase(key);
    } else {
      rec::PortClaim c{"default", name, std::to_string(pick(5)), pools[pick(4)], {}};
      for (int i = 0, n = 1 + pick(2); i < n; ++i) {
        c.ports.push_back({protocols[pick(3)], 80 + pick(6)});
      }
      incremental.Set(key, c);
      all[key] = c;
    }
    std::vector<const rec::PortClaim*> ptrs;
    for (const auto& [k, c] : all) ptrs.push_back(&c);
    auto want = rec::FindPortConflicts(ptrs);
    CAPTURE(step);
    REQUIRE(incremental.Conflicts() == want);
    REQUIRE(incremental.Size() == all.size());
    if (!want.empty()) ++nonempty;
  }
  CHECK(nonempty > 100);  // the walk did exercise conflicts
  // Every Service on its own port: nothing shared, nothing blocked.
  rec::PortClaims own;
  for (int i = 0; i < 100; ++i) {
    own.Set("default/s" + std::to_string(i),
            {"default", "s" + std::to_string(i), "1", "", {{"TCP", 1000 + i}}});
  }
  CHECK(own.Conflicts().empty());
  own.Set("default/late", {"default", "late", "2", "", {{"tcp", 1042}}});
  CHECK(own.Conflicts() ==
        std::map<std::string, rec::PortConflict>{{"default/late", {"default/s42", "tcp", 1042}}});
  own.Erase("default/s42");
  CHECK(own.Conflicts().empty());
}

TEST_CASE("Orphan sweep: DaemonSets whose Service UID is not a wanted, handled Service") {
  auto ds = [](const std::string& name, const std::string& uid) {
    api::ObservedDaemonSet d;
    d.ns = "akrobateo-system";
    d.name = name;
    d.service_ns = "default";
    d.service_name = "x";
    d.service_uid = uid;
    return d;
  };
  std::unordered_map<std::string, std::string> wanted = {{"u1", "ds-1"}, {"u2", "ds-2"}};
  auto orphans = rec::SelectOrphans(
      {ds("ds-1", "u1"), ds("ds-2", "u2"), ds("ds-3", "u3"), ds("ds-2-old", "u2"), ds("x", "")},
      wanted);
  std::vector<std::string> names;
  for (const auto& o : orphans) names.push_back(o.name);
  // u3: Service gone or no longer handled (e.g. type changed: klipper-lb leaves the DaemonSet
  // behind).
  CHECK(names == std::vector<std::string>{"ds-3", "ds-2-old", "x"});
  CHECK(rec::SelectOrphans({}, wanted).empty());
}
