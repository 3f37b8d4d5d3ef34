// SPDX-License-Identifier: Apache-2.0
// Leader election on a fake clock that the test steps, against the fake typed client's Leases
// (which the test can stall): leadership (the write fence) ends at the renew deadline even while
// a renewal hangs, Hold() returns then, and a write in flight then is aborted. Then the REST
// client on the same fake clock against a loopback server that never answers: a request is
// abandoned at its deadline, a write at the fence. No test sleeps; every time is exact.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "operator/kube/client.h"
#include "operator/kube/write_fence.h"
#include "operator/leader/lease.h"
#include "test/operator/fake_clock.h"
#include "test/operator/fake_typed_client.h"

namespace kube = akrobateo::kube;
namespace leader = akrobateo::leader;
using akrobateo::Clock;
using akrobateo::testing::FakeClock;
using akrobateo::testing::FakeTypedClient;
using namespace std::chrono_literals;

namespace {

leader::LeaseOptions Fast() {
  leader::LeaseOptions o;
  o.ns = "ns";
  o.name = "op";
  o.identity = "me";
  o.lease_duration = 3s;
  o.renew_deadline = 1500ms;
  o.retry_period = 200ms;
  return o;
}

// What the elector's collaborators are made of in these tests.
struct Rig {
  Rig() { api.SetClock(&clock); }
  FakeClock clock;
  FakeTypedClient api;
  kube::WriteFence fence{&clock};
};

// Lets the elector's thread run up to its next wait on the clock, then steps the clock.
void StepWhenWaiting(FakeClock& clock, size_t waiters, Clock::duration d) {
  REQUIRE(clock.BlockUntilWaiters(waiters));
  clock.Step(d);
}

}  // namespace

TEST_CASE("Durations and timings of the leader election flags") {
  CHECK(*leader::ParseDuration("15s") == 15s);
  CHECK(*leader::ParseDuration("500ms") == 500ms);
  CHECK(*leader::ParseDuration("1.5s") == 1500ms);
  CHECK(*leader::ParseDuration("2m") == 120s);
  CHECK(*leader::ParseDuration("7") == 7s);
  for (const char* bad : {"", "s", "-1s", "3 s", "3d", "abc"}) {
    CHECK_MESSAGE(!leader::ParseDuration(bad).ok(), bad);
  }
  leader::LeaseOptions o;
  CHECK(leader::CheckTimings(o).ok());  // the defaults: 15s, 10s, 2s
  o.renew_deadline = 15s;
  CHECK(leader::CheckTimings(o).error().find("renew deadline") != std::string::npos);
  o = {};
  o.lease_duration = 1500ms;
  CHECK(leader::CheckTimings(o).error().find("whole number") != std::string::npos);
  o = {};
  o.retry_period = 10s;
  CHECK(!leader::CheckTimings(o).ok());
}

TEST_CASE("Leadership ends at the renew deadline while a renewal hangs") {
  Rig rig;
  leader::LeaderElector elector(&rig.api, &rig.fence, Fast());
  CHECK(rig.fence.Allowed());  // without leader election, writes are allowed
  REQUIRE(elector.Acquire());
  CHECK(elector.Leading());
  CHECK(rig.fence.Deadline() == rig.clock.Now() + Fast().renew_deadline);
  auto lease = rig.api.Lease("ns/op");
  REQUIRE(lease);
  CHECK(lease->holder == "me");
  CHECK(lease->lease_duration_seconds == 3);

  std::atomic<bool> held{true};
  Clock::time_point returned_at;
  std::thread holder([&] {
    held = elector.Hold();
    returned_at = rig.clock.Now();
  });
  // Every retry period a renewal moves the deadline on.
  for (int i = 1; i <= 3; ++i) {
    StepWhenWaiting(rig.clock, 1, Fast().retry_period);
    REQUIRE(rig.clock.BlockUntilWaiters(1));  // renewed, and waiting again
    CHECK(rig.api.LeaseWrites() == 1 + i);
    CHECK(rig.fence.Deadline() == rig.clock.Now() + Fast().renew_deadline);
  }
  const Clock::time_point deadline = rig.fence.Deadline();

  // A write in flight (as the client registers it), aborted when the fence passes.
  std::promise<Clock::time_point> aborted;
  auto ticket = rig.fence.Begin([&] { aborted.set_value(rig.clock.Now()); },
                                Clock::time_point::max(), /*fenced=*/true);
  rig.api.StallLeases(true);
  const Clock::time_point stalled_at = rig.clock.Now();
  // The next renewal hangs (the elector waits in it, the fence's watchdog waits for the fence).
  StepWhenWaiting(rig.clock, 2, Fast().retry_period);
  REQUIRE(rig.clock.BlockUntilWaiters(2));
  CHECK(rig.fence.Allowed());
  CHECK(rig.fence.Deadline() == deadline);
  rig.clock.StepTo(deadline);
  holder.join();
  // Hold() returned at the deadline, although the renewal it was making still hangs.
  CHECK(!held);
  CHECK(returned_at == deadline);
  CHECK(!rig.fence.Allowed());
  // The write in flight was aborted then, not when a server would have answered.
  CHECK(aborted.get_future().get() == deadline);
  CHECK(rig.fence.End(ticket));
  // What makes two leaders impossible: the old one stops before its lease can be taken over.
  CHECK(deadline - stalled_at < Fast().lease_duration);
  rig.api.StallLeases(false);
}

TEST_CASE("Leadership ends at the next renewal when the Lease shows another holder") {
  Rig rig;
  leader::LeaderElector elector(&rig.api, &rig.fence, Fast());
  REQUIRE(elector.Acquire());
  std::atomic<bool> held{true};
  std::thread holder([&] { held = elector.Hold(); });
  REQUIRE(rig.clock.BlockUntilWaiters(1));
  akrobateo::api::Lease other;
  other.holder = "someone-else";
  other.lease_duration_seconds = 3;
  rig.api.PutLease("ns/op", other);
  const Clock::time_point changed = rig.clock.Now();
  rig.clock.Step(Fast().retry_period);
  holder.join();
  CHECK(!held);
  CHECK(!rig.fence.Allowed());
  // The next renewal (every 200 ms), not the deadline (1.5 s).
  CHECK(rig.clock.Now() - changed == Fast().retry_period);
}

TEST_CASE("Another instance's Lease is taken over after its duration without a change") {
  Rig rig;
  akrobateo::api::Lease other;
  other.holder = "other";
  other.lease_duration_seconds = 3;
  other.renew_time = "2026-12-07T03:00:00.000000Z";
  other.transitions = 4;
  rig.api.PutLease("ns/op", other);
  std::atomic<bool> acquired{false};
  const Clock::time_point start = rig.clock.Now();
  std::thread candidate([&] {
    leader::LeaderElector elector(&rig.api, &rig.fence, Fast());
    acquired = elector.Acquire();
  });
  // Seen first at `start`; unchanged for 3 s of retries, then it is ours.
  while (rig.clock.Now() - start < 3s) {
    StepWhenWaiting(rig.clock, 1, Fast().retry_period);
    if (rig.clock.Now() - start < 3s) {
      REQUIRE(rig.clock.BlockUntilWaiters(1));
      CHECK(rig.api.Lease("ns/op")->holder == "other");
      CHECK(!rig.fence.Allowed());
    }
  }
  candidate.join();
  CHECK(acquired);
  CHECK(rig.api.Lease("ns/op")->holder == "me");
  CHECK(rig.api.Lease("ns/op")->transitions == 5);
  CHECK(rig.fence.Allowed());
}

TEST_CASE("Release gives the Lease up and closes the fence") {
  Rig rig;
  leader::LeaderElector elector(&rig.api, &rig.fence, Fast());
  REQUIRE(elector.Acquire());
  elector.Release();
  CHECK(!rig.fence.Allowed());
  auto lease = rig.api.Lease("ns/op");
  REQUIRE(lease);
  CHECK(lease->holder.empty());
  CHECK(lease->lease_duration_seconds == 1);
}

namespace {

// A loopback API server that never answers until told to (the test's end): counts the
// requests that reach it, so that the test knows one is in flight.
class StalledApi {
 public:
  StalledApi() {
    auto hang = [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mu_);
      ++arrived_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_; });
      res.status = 500;
    };
    server_.Get("/x", hang);
    server_.Post("/apis/apps/v1/namespaces/ns/daemonsets", hang);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~StalledApi() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void WaitArrivals(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return arrived_ >= n; });
  }
  int arrived() {
    std::lock_guard lock(mu_);
    return arrived_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  bool released_ = false;
};

std::unique_ptr<kube::Client> NewClient(int port, Clock* clock) {
  kube::Config cfg;
  cfg.scheme = "http";
  cfg.host = "127.0.0.1";
  cfg.port = port;
  auto c = kube::Client::Create(cfg, 1000, 1000, nullptr, clock);
  REQUIRE(c.ok());
  return std::move(c).value();
}

}  // namespace

TEST_CASE("A request is abandoned at its deadline, a write at the fence") {
  StalledApi api;
  FakeClock clock;
  auto client = NewClient(api.port(), &clock);

  // The deadline is far in real time too (the sockets' own timeouts are its backstop), so only
  // the clock's step can end the request.
  kube::CallOptions call;
  call.deadline = clock.Now() + 20s;
  auto get = std::async(std::launch::async, [&] {
    return client->Request("get", "GET", "/x", "", "application/json", call);
  });
  api.WaitArrivals(1);
  StepWhenWaiting(clock, 1, 20s);
  kube::Response r = get.get();
  CHECK(r.status == 0);
  CHECK_MESSAGE(r.error.find("abandoned: deadline passed") != std::string::npos, r.error);

  // A deadline already passed: not even sent.
  call.deadline = clock.Now() - 1ms;
  kube::Response late = client->Request("get", "GET", "/x", "", "application/json", call);
  CHECK(late.status == 0);
  CHECK(late.error.find("not sent: deadline passed") != std::string::npos);

  // A write in flight when the fence passes is abandoned then.
  client->FenceWrites(clock.Now() + 20s);
  auto write = std::async(std::launch::async, [&] {
    return client->Request("create", "POST", "/apis/apps/v1/namespaces/ns/daemonsets", "{}");
  });
  api.WaitArrivals(2);
  StepWhenWaiting(clock, 1, 20s);
  kube::Response in_flight = write.get();
  CHECK(in_flight.status == 0);
  CHECK_MESSAGE(in_flight.error.find("abandoned: the write fence passed") != std::string::npos,
                in_flight.error);
  CHECK(!client->WritesAllowed());
  // From then on a write is refused without reaching the server.
  kube::Response refused =
      client->Request("create", "POST", "/apis/apps/v1/namespaces/ns/daemonsets", "{}");
  CHECK(refused.status == 0);
  CHECK_MESSAGE(refused.error.find("not the leader") != std::string::npos, refused.error);
  CHECK(api.arrived() == 2);
}
