// SPDX-License-Identifier: Apache-2.0
// The cache store's secondary index: ByIndex finds exactly the items carrying a value, through
// additions, updates that move an item to another value, deletions and re-lists, and the index
// never keeps a value whose items are gone.
#include "operator/cache/store.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "operator/api/types.h"
#include "operator/cache/caches.h"
#include "operator/cache/index.h"

namespace api = akrobateo::api;
namespace cache = akrobateo::cache;

namespace {

api::Pod Pod(const std::string& name, const std::string& uid, bool ready = false) {
  api::Pod p;
  p.ns = "akrobateo-system";
  p.name = name;
  p.service_ns = "default";
  p.service_name = "svc-" + uid;
  p.service_uid = uid;
  p.ready = ready;
  return p;
}

std::vector<std::string> Names(std::vector<api::Pod> pods) {
  std::vector<std::string> out;
  for (const api::Pod& p : pods) out.push_back(p.name);
  std::sort(out.begin(), out.end());
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("Index: keys by value; a value goes with its last key; empty values are not indexed") {
  cache::Index idx;
  idx.Add("u1", "a");
  idx.Add("u1", "b");
  idx.Add("u1", "a");  // twice: still once
  idx.Add("u2", "c");
  idx.Add("", "d");
  CHECK(idx.Keys("u1") == Strings{"a", "b"});
  CHECK(idx.Keys("u2") == Strings{"c"});
  CHECK(idx.Keys("").empty());
  CHECK(idx.Keys("nope").empty());
  CHECK(idx.Size() == 2);
  idx.Remove("u1", "a");
  idx.Remove("u1", "zzz");  // not there: nothing happens
  idx.Remove("u9", "a");
  CHECK(idx.Keys("u1") == Strings{"b"});
  idx.Remove("u1", "b");
  CHECK(idx.Keys("u1").empty());
  CHECK(idx.Size() == 1);
  idx.Clear();
  CHECK(idx.Size() == 0);
}

TEST_CASE("Store::ByIndex follows Upsert, Erase and Replace") {
  cache::Store<api::Pod> store(&cache::PodServiceUid);
  auto put = [&](const api::Pod& p) { return store.Upsert(cache::PodKey(p), p); };
  put(Pod("p1", "u1"));
  put(Pod("p2", "u1"));
  put(Pod("p3", "u2"));
  CHECK(Names(store.ByIndex("u1")) == Strings{"p1", "p2"});
  CHECK(Names(store.ByIndex("u2")) == Strings{"p3"});
  CHECK(store.ByIndex("u3").empty());

  SUBCASE("an update returns the new value and keeps the item under its value") {
    CHECK(put(Pod("p1", "u1", true)).has_value());
    std::vector<api::Pod> got = store.ByIndex("u1");
    REQUIRE(got.size() == 2);
    for (const api::Pod& p : got) CHECK(p.ready == (p.name == "p1"));
  }
  SUBCASE("an update that changes the value moves the item") {
    put(Pod("p2", "u2"));
    CHECK(Names(store.ByIndex("u1")) == Strings{"p1"});
    CHECK(Names(store.ByIndex("u2")) == Strings{"p2", "p3"});
  }
  SUBCASE("an update to an empty value takes the item out of the index") {
    put(Pod("p3", ""));
    CHECK(store.ByIndex("u2").empty());
    CHECK(store.IndexSize() == 1);
    CHECK(store.Size() == 3);
  }
  SUBCASE("erase") {
    CHECK(store.Erase("akrobateo-system/p3").has_value());
    CHECK(!store.Erase("akrobateo-system/p3").has_value());
    CHECK(store.ByIndex("u2").empty());
    CHECK(store.IndexSize() == 1);
  }
  SUBCASE("a re-list rebuilds the index from the new content") {
    std::unordered_map<std::string, api::Pod> fresh;
    for (const api::Pod& p : {Pod("p2", "u3"), Pod("p4", "u3"), Pod("p5", "u4")}) {
      fresh.emplace(cache::PodKey(p), p);
    }
    std::vector<api::Pod> gone = store.Replace(std::move(fresh));
    CHECK(Names(gone) == Strings{"p1", "p3"});
    CHECK(store.ByIndex("u1").empty());
    CHECK(store.ByIndex("u2").empty());
    CHECK(Names(store.ByIndex("u3")) == Strings{"p2", "p4"});
    CHECK(Names(store.ByIndex("u4")) == Strings{"p5"});
    CHECK(store.IndexSize() == 2);
  }
}

TEST_CASE("Store without an index function: ByIndex finds nothing") {
  cache::Store<api::Pod> store;
  store.Upsert("akrobateo-system/p1", Pod("p1", "u1"));
  CHECK(store.ByIndex("u1").empty());
  CHECK(store.IndexSize() == 0);
  CHECK(store.Get("akrobateo-system/p1").has_value());
}

TEST_CASE("The caches' index values: what a reconcile of one Service looks up") {
  api::ObservedDaemonSet ds;
  ds.service_ns = "default";
  ds.service_name = "echo";
  CHECK(cache::DaemonSetService(ds) == "default/echo");
  ds.service_name.clear();
  CHECK(cache::DaemonSetService(ds).empty());

  api::EndpointSlice slice;
  slice.ns = "default";
  slice.name = "echo-abcde";
  slice.service_name = "echo";
  CHECK(cache::SliceService(slice) == "default/echo");
  slice.service_name.clear();
  CHECK(cache::SliceService(slice).empty());

  CHECK(cache::PodServiceUid(Pod("p", "u1")) == "u1");
}

// ReplaceIf is how a write's response enters the cache (Informer::AdoptWritten): only over the
// version it was written against, and with the index following the new item.
TEST_CASE("Store: ReplaceIf replaces only the item it was asked about") {
  cache::Store<api::Pod> store(&cache::PodServiceUid);
  store.Upsert("akrobateo-system/p1", Pod("p1", "u1"));
  const uint64_t v0 = store.Version();
  auto is_not_ready = [](const api::Pod& p) { return !p.ready; };
  auto is_ready = [](const api::Pod& p) { return p.ready; };

  CHECK_FALSE(store.ReplaceIf("akrobateo-system/p1", is_ready, Pod("p1", "u2", true)));
  CHECK(store.Version() == v0);
  CHECK(Names(store.ByIndex("u1")) == Strings{"p1"});
  CHECK_FALSE(store.ReplaceIf("akrobateo-system/absent", is_not_ready, Pod("absent", "u1")));
  CHECK(store.Size() == 1);

  CHECK(store.ReplaceIf("akrobateo-system/p1", is_not_ready, Pod("p1", "u2", true)));
  CHECK(store.Version() > v0);
  CHECK(store.Get("akrobateo-system/p1")->ready);
  CHECK(store.ByIndex("u1").empty());
  CHECK(Names(store.ByIndex("u2")) == Strings{"p1"});
  CHECK(store.IndexSize() == 1);
}
