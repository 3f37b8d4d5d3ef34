// SPDX-License-Identifier: Apache-2.0
// The work queue: dedup, one worker per key, backoff, shutdown.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "operator/queue/work_queue.h"

using akrobateo::queue::WorkQueue;
using namespace std::chrono_literals;

TEST_CASE("A key added many times while waiting is handed out once") {
  WorkQueue q;
  for (int i = 0; i < 100; ++i) q.Add("default/a");
  q.Add("default/b");
  CHECK(q.Len() == 2);
  auto k1 = q.Get();
  auto k2 = q.Get();
  REQUIRE(k1);
  REQUIRE(k2);
  CHECK(*k1 == "default/a");
  CHECK(*k2 == "default/b");
  CHECK(q.Len() == 0);
  q.Done(*k1);
  q.Done(*k2);
  CHECK(q.Len() == 0);
}

TEST_CASE("A key added while processing comes back only after Done") {
  WorkQueue q;
  q.Add("k");
  auto k = q.Get();
  REQUIRE(k);
  q.Add("k");
  q.Add("k");
  CHECK(q.Len() == 0);  // not handed to a second worker
  q.Done("k");
  CHECK(q.Len() == 1);
  auto again = q.Get();
  REQUIRE(again);
  q.Done(*again);
  CHECK(q.Len() == 0);
}

TEST_CASE("Never two workers on one key; every added key is processed") {
  WorkQueue q;
  std::mutex mu;
  std::map<std::string, int> in_flight, processed;
  std::atomic<bool> overlap{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        {
          std::lock_guard lock(mu);
          if (++in_flight[*key] > 1) overlap = true;
        }
        std::this_thread::sleep_for(100us);
        {
          std::lock_guard lock(mu);
          --in_flight[*key];
          ++processed[*key];
        }
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.Add("k" + std::to_string(i % 7));
  // Wait for the queue to drain, then stop.
  for (int i = 0; i < 2000 && q.Len() > 0; ++i) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  q.ShutDown();
  for (auto& t : workers) t.join();
  CHECK(!overlap);
  CHECK(processed.size() == 7);
}

TEST_CASE("Failures back off per key and Forget resets") {
  WorkQueue q(200ms, 10s);
  q.AddRateLimited("bad");
  CHECK(q.Failures("bad") == 1);
  CHECK(q.Len() == 0);  // not yet: it waits its backoff
  q.Add("good");
  auto first = q.Get();
  REQUIRE(first);
  CHECK(*first == "good");  // the healthy key is not stalled behind the failing one
  q.Done(*first);
  auto second = q.Get();  // blocks until the backoff has passed
  REQUIRE(second);
  CHECK(*second == "bad");
  q.Done(*second);
  q.AddRateLimited("bad");
  CHECK(q.Failures("bad") == 2);
  q.Forget("bad");
  CHECK(q.Failures("bad") == 0);
  q.ShutDown();
}

TEST_CASE("ShutDown wakes blocked workers") {
  WorkQueue q;
  std::thread t([&] { CHECK(!q.Get()); });
  std::this_thread::sleep_for(10ms);
  q.ShutDown();
  t.join();
  q.Add("x");  // ignored after shutdown
  CHECK(q.Len() == 0);
}

TEST_CASE("A key re-added while processed is not handed out after ShutDown") {
  WorkQueue q;
  q.Add("k");
  auto k = q.Get();
  REQUIRE(k);
  q.Add("k");  // changed again while a worker holds it
  q.ShutDown();
  q.Done(*k);
  CHECK(!q.Get());
}
