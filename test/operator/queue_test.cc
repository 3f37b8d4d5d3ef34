// SPDX-License-Identifier: Apache-2.0
// The work queue: dedup, one worker per key, backoff, shutdown.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/metrics/metrics.h"
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

namespace {

// The value of the sample named exactly `series` in the registry's exposition, or -1.
double Sample(const akrobateo::metrics::Metrics& m, const std::string& series) {
  std::istringstream in(m.Render());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace

TEST_CASE("Queue metrics: adds, depth, queue and work duration") {
  akrobateo::metrics::Metrics m;
  WorkQueue q;
  q.SetMetrics(&m);
  for (int i = 0; i < 5; ++i) q.Add("k" + std::to_string(i));
  q.Add("k0");  // already waiting: not added again
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 5);
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 5);
  std::this_thread::sleep_for(20ms);
  std::vector<std::string> held;
  for (int i = 0; i < 5; ++i) held.push_back(*q.Get());
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  CHECK(Sample(m, "akrobateo_workqueue_queue_duration_seconds_count") == 5);
  CHECK(Sample(m, "akrobateo_workqueue_queue_duration_seconds_sum") >= 5 * 0.02);
  CHECK(Sample(m, "akrobateo_workqueue_queue_duration_seconds_bucket{le=\"0.01\"}") == 0);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_count") == 0);  // none Done yet

  q.Add("k1");  // while a worker holds it: waits again (depth 1), comes back after Done
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 6);
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 1);
  std::this_thread::sleep_for(30ms);
  for (const std::string& k : held) q.Done(k);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_count") == 5);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_sum") >= 5 * 0.03);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_bucket{le=\"0.01\"}") == 0);
  auto again = q.Get();
  REQUIRE(again);
  CHECK(*again == "k1");
  q.Done(*again);
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  CHECK(Sample(m, "akrobateo_workqueue_queue_duration_seconds_count") == 6);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_count") == 6);
  CHECK(Sample(m, "akrobateo_workqueue_retries_total") == 0);
}

TEST_CASE("Queue metrics: a failed key counts one retry, and one add when it is due") {
  akrobateo::metrics::Metrics m;
  WorkQueue q(20ms, 1s);
  q.SetMetrics(&m);
  q.Add("bad");
  auto k = q.Get();
  REQUIRE(k);
  q.AddRateLimited(*k);  // the reconcile failed
  q.Done(*k);
  CHECK(Sample(m, "akrobateo_workqueue_retries_total") == 1);
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 1);  // still waiting its backoff
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  auto back = q.Get();  // after the backoff
  REQUIRE(back);
  q.Forget(*back);
  q.Done(*back);
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 2);
  CHECK(Sample(m, "akrobateo_workqueue_retries_total") == 1);
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  // The coalescing delay of AddAfter is no retry.
  q.AddAfter("other", 1ms);
  auto o = q.Get();
  REQUIRE(o);
  q.Done(*o);
  CHECK(Sample(m, "akrobateo_workqueue_retries_total") == 1);
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 3);
  q.ShutDown();
}

TEST_CASE("Queue metrics: depth is 0 after ShutDown; a queue without a registry works") {
  akrobateo::metrics::Metrics m;
  WorkQueue q;
  q.SetMetrics(&m);
  q.Add("a");
  q.Add("b");
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 2);
  q.ShutDown();
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  WorkQueue plain;
  plain.Add("x");
  plain.AddRateLimited("x");
  auto x = plain.Get();
  REQUIRE(x);
  plain.Done(*x);
}
