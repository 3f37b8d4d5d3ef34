// SPDX-License-Identifier: Apache-2.0
// The work queue: dedup, one worker per key, backoff, delays, shutdown; on a fake clock that the
// test steps (no test sleeps; every delay is checked to the millisecond).
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/metrics/metrics.h"
#include "operator/queue/work_queue.h"
#include "test/operator/fake_clock.h"

using akrobateo::queue::WorkQueue;
using akrobateo::testing::FakeClock;
using namespace std::chrono_literals;

namespace {

// A Get() running on another thread, and whether it has returned yet (without waiting).
struct PendingGet {
  explicit PendingGet(WorkQueue& q)
      : result(std::async(std::launch::async, [&q] { return q.Get(); })) {}
  bool returned() { return result.wait_for(0s) == std::future_status::ready; }
  std::future<std::optional<std::string>> result;
};

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
  FakeClock clock;  // only to see when every worker waits
  WorkQueue q(&clock);
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
        std::this_thread::yield();
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
  // Drained once every worker waits in Get() and nothing is queued; then stop.
  REQUIRE(clock.BlockUntilWaiters(4));
  while (q.Len() > 0 || clock.Waiters() < 4) std::this_thread::yield();
  q.ShutDown();
  for (auto& t : workers) t.join();
  CHECK(!overlap);
  CHECK(processed.size() == 7);
}

TEST_CASE("Failures back off per key, doubling, and Forget resets") {
  FakeClock clock;
  WorkQueue q(&clock, 200ms, 10s);
  q.AddRateLimited("bad");
  CHECK(q.Failures("bad") == 1);
  CHECK(q.Len() == 0);  // not yet: it waits its backoff
  q.Add("good");
  auto first = q.Get();
  REQUIRE(first);
  CHECK(*first == "good");  // the healthy key is not stalled behind the failing one
  q.Done(*first);
  for (auto backoff : {200ms, 400ms}) {
    PendingGet get(q);
    REQUIRE(clock.BlockUntilWaiters(1));
    clock.Step(backoff - 1ms);
    REQUIRE(clock.BlockUntilWaiters(1));  // woken, and waiting again
    CHECK(!get.returned());
    clock.Step(1ms);
    auto second = get.result.get();
    REQUIRE(second);
    CHECK(*second == "bad");
    q.Done(*second);
    q.AddRateLimited("bad");
  }
  CHECK(q.Failures("bad") == 3);
  q.Forget("bad");
  CHECK(q.Failures("bad") == 0);
  q.ShutDown();
}

TEST_CASE("AddAfter keeps one waiting entry per key, the earliest") {
  akrobateo::metrics::Metrics m;
  FakeClock clock;
  WorkQueue q(&clock);
  q.SetMetrics(&m);
  q.AddAfter("k", 1s);
  q.AddAfter("k", 500ms);  // earlier: replaces the entry
  q.AddAfter("k", 2s);     // later: ignored
  q.AddAfter("other", 700ms);
  clock.Step(499ms);
  q.Add("first");
  CHECK(*q.Get() == "first");  // k is not due yet
  q.Done("first");
  clock.Step(1ms);
  CHECK(*q.Get() == "k");
  q.Done("k");
  clock.Step(2s);  // past every time k was given: nothing of it is left waiting
  CHECK(*q.Get() == "other");
  q.Done("other");
  CHECK(q.Len() == 0);
  q.Add("last");
  CHECK(*q.Get() == "last");
  q.Done("last");
  CHECK(q.Len() == 0);
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 4);  // first, k, other, last
  q.ShutDown();
}

TEST_CASE("A waiting Get() wakes for a key that becomes due earlier") {
  FakeClock clock;
  WorkQueue q(&clock);
  q.AddAfter("late", 10s);
  PendingGet get(q);
  REQUIRE(clock.BlockUntilWaiters(1));
  q.AddAfter("soon", 1s);
  REQUIRE(clock.BlockUntilWaiters(1));
  clock.Step(1s);
  CHECK(*get.result.get() == "soon");
  q.ShutDown();
}

TEST_CASE("ShutDown wakes blocked workers") {
  FakeClock clock;
  WorkQueue q(&clock);
  std::thread t([&] { CHECK(!q.Get()); });
  REQUIRE(clock.BlockUntilWaiters(1));
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

TEST_CASE("Queue metrics: adds, depth, queue and work duration") {
  akrobateo::metrics::Metrics m;
  FakeClock clock;
  WorkQueue q(&clock);
  q.SetMetrics(&m);
  for (int i = 0; i < 5; ++i) q.Add("k" + std::to_string(i));
  q.Add("k0");  // already waiting: not added again
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 5);
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 5);
  clock.Step(20ms);
  std::vector<std::string> held;
  for (int i = 0; i < 5; ++i) held.push_back(*q.Get());
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  CHECK(Sample(m, "akrobateo_workqueue_queue_duration_seconds_count") == 5);
  CHECK(Sample(m, "akrobateo_workqueue_queue_duration_seconds_sum") == doctest::Approx(5 * 0.02));
  CHECK(Sample(m, "akrobateo_workqueue_queue_duration_seconds_bucket{le=\"0.01\"}") == 0);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_count") == 0);  // none Done yet

  q.Add("k1");  // while a worker holds it: waits again (depth 1), comes back after Done
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 6);
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 1);
  clock.Step(30ms);
  for (const std::string& k : held) q.Done(k);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_count") == 5);
  CHECK(Sample(m, "akrobateo_workqueue_work_duration_seconds_sum") == doctest::Approx(5 * 0.03));
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
  FakeClock clock;
  WorkQueue q(&clock, 20ms, 1s);
  q.SetMetrics(&m);
  q.Add("bad");
  auto k = q.Get();
  REQUIRE(k);
  q.AddRateLimited(*k);  // the reconcile failed
  q.Done(*k);
  CHECK(Sample(m, "akrobateo_workqueue_retries_total") == 1);
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 1);  // still waiting its backoff
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  clock.Step(20ms);
  auto back = q.Get();  // after the backoff
  REQUIRE(back);
  q.Forget(*back);
  q.Done(*back);
  CHECK(Sample(m, "akrobateo_workqueue_adds_total") == 2);
  CHECK(Sample(m, "akrobateo_workqueue_retries_total") == 1);
  CHECK(Sample(m, "akrobateo_workqueue_depth") == 0);
  // The coalescing delay of AddAfter is no retry.
  q.AddAfter("other", 1ms);
  clock.Step(1ms);
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
  WorkQueue plain;  // on the real clock
  plain.Add("x");
  plain.AddRateLimited("x");  // waits its 50 ms backoff, not in the way of the Add
  auto x = plain.Get();
  REQUIRE(x);
  plain.Done(*x);
}
