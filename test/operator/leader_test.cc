// SPDX-License-Identifier: Apache-2.0
// Leader election against a Lease served by a loopback HTTP server that the test can stall:
// leadership (the client's write fence) ends at the renew deadline even while a renewal hangs,
// Hold() returns then, writes are refused from that moment and abandoned when in flight.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "operator/kube/client.h"
#include "operator/leader/lease.h"

namespace kube = akrobateo::kube;
namespace leader = akrobateo::leader;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

// A Lease store on 127.0.0.1 that can be stalled (requests hang until un-stalled), and a
// DaemonSet collection that counts the writes reaching it.
class FakeApi {
 public:
  FakeApi() {
    server_.Get(kLease, [this](const httplib::Request&, httplib::Response& res) {
      if (!Gate()) return;
      std::lock_guard lock(mu_);
      if (lease_.is_null()) {
        res.status = 404;
        res.set_content(R"({"kind":"Status","code":404})", "application/json");
        return;
      }
      res.set_content(lease_.dump(), "application/json");
    });
    auto write = [this](const httplib::Request& req, httplib::Response& res) {
      if (!Gate()) return;
      std::lock_guard lock(mu_);
      json in = json::parse(req.body);
      std::string rv = in["metadata"].value("resourceVersion", "");
      if (req.method == "POST"
              ? !lease_.is_null()
              : (lease_.is_null() || rv != lease_["metadata"]["resourceVersion"])) {
        res.status = 409;
        res.set_content(R"({"kind":"Status","code":409,"message":"conflict"})", "application/json");
        return;
      }
      in["metadata"]["resourceVersion"] = std::to_string(++version_);
      lease_ = in;
      ++lease_writes_;
      res.status = req.method == "POST" ? 201 : 200;
      res.set_content(lease_.dump(), "application/json");
    };
    server_.Post(kLeases, write);
    server_.Put(kLease, write);
    server_.Post("/apis/apps/v1/namespaces/ns/daemonsets",
                 [this](const httplib::Request&, httplib::Response& res) {
                   ++daemonset_writes_;
                   if (!Gate()) return;
                   res.status = 201;
                   res.set_content("{}", "application/json");
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeApi() {
    Stall(false);
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void Stall(bool on) {
    {
      std::lock_guard lock(gate_mu_);
      stalled_ = on;
    }
    gate_cv_.notify_all();
  }
  // Another instance takes the Lease.
  void SetHolder(const std::string& holder) {
    std::lock_guard lock(mu_);
    lease_["spec"]["holderIdentity"] = holder;
    lease_["metadata"]["resourceVersion"] = std::to_string(++version_);
  }
  int daemonset_writes() const { return daemonset_writes_.load(); }
  int lease_writes() const { return lease_writes_.load(); }

 private:
  static constexpr const char* kLeases = "/apis/coordination.k8s.io/v1/namespaces/ns/leases";
  static constexpr const char* kLease = "/apis/coordination.k8s.io/v1/namespaces/ns/leases/op";
  // Waits while stalled (at most 20 s); false when still stalled then.
  bool Gate() {
    std::unique_lock lock(gate_mu_);
    return gate_cv_.wait_for(lock, 20s, [this] { return !stalled_; });
  }
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  json lease_;
  int64_t version_ = 0;
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool stalled_ = false;
  std::atomic<int> daemonset_writes_{0};
  std::atomic<int> lease_writes_{0};
};

std::unique_ptr<kube::Client> NewClient(int port) {
  kube::Config cfg;
  cfg.scheme = "http";
  cfg.host = "127.0.0.1";
  cfg.port = port;
  auto c = kube::Client::Create(cfg, 1000, 1000, nullptr);
  REQUIRE(c.ok());
  return std::move(c).value();
}

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

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

kube::Response WriteDaemonSet(kube::Client& c) {
  return c.Request("create", "POST", "/apis/apps/v1/namespaces/ns/daemonsets", "{}");
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
  FakeApi api;
  auto client = NewClient(api.port());
  leader::LeaderElector elector(client.get(), Fast());
  CHECK(client->WritesAllowed());  // a client without leader election writes
  REQUIRE(elector.Acquire());
  CHECK(elector.Leading());
  CHECK(WriteDaemonSet(*client).ok());
  CHECK(api.daemonset_writes() == 1);

  std::atomic<bool> held{true};
  std::atomic<bool> returned{false};
  Clock::time_point returned_at;
  std::thread holder([&] {
    held = elector.Hold();
    returned_at = Clock::now();
    returned = true;
  });
  // A few renewals go through (polled: under ASan on a loaded machine they can take longer).
  for (int i = 0; i < 100 && api.lease_writes() < 3; ++i) std::this_thread::sleep_for(50ms);
  CHECK(api.lease_writes() >= 3);
  CHECK(elector.Leading());
  api.Stall(true);
  const Clock::time_point stalled_at = Clock::now();
  // A renewal that had passed the stall point before it may still move the deadline; none
  // after it can.
  std::this_thread::sleep_for(100ms);
  const Clock::time_point deadline = client->WriteDeadline();
  CHECK(deadline <= stalled_at + Fast().renew_deadline);
  CHECK(client->WritesAllowed());
  // A write in flight when the deadline passes is abandoned then, not when the server answers.
  kube::Response in_flight = WriteDaemonSet(*client);
  const Clock::time_point in_flight_ended = Clock::now();
  CHECK(in_flight.status == 0);
  CHECK_MESSAGE(in_flight.error.find("fence") != std::string::npos, in_flight.error);
  CHECK(in_flight_ended >= deadline);
  // The stalled server would answer never (the client's read timeout is 30 s); a second of
  // slack keeps a loaded machine from failing this.
  CHECK(Seconds(in_flight_ended - deadline) < 1.0);
  CHECK(!client->WritesAllowed());
  holder.join();
  CHECK(returned);
  CHECK(!held);
  // Hold() returned at the deadline, although the renewal it was making still hangs.
  CHECK(Seconds(returned_at - deadline) >= 0);
  CHECK_MESSAGE(Seconds(returned_at - deadline) < 1.0, Seconds(returned_at - deadline));
  // What makes two leaders impossible: the old one stops before its lease can be taken over.
  CHECK(Seconds(returned_at - stalled_at) < Seconds(Fast().lease_duration));
  // From then on a write is refused without reaching the server.
  int before = api.daemonset_writes();
  kube::Response refused = WriteDaemonSet(*client);
  CHECK(refused.status == 0);
  CHECK_MESSAGE(refused.error.find("not the leader") != std::string::npos, refused.error);
  CHECK(api.daemonset_writes() == before);
}

TEST_CASE("Leadership ends at once when the Lease shows another holder") {
  FakeApi api;
  auto client = NewClient(api.port());
  leader::LeaderElector elector(client.get(), Fast());
  REQUIRE(elector.Acquire());
  std::atomic<bool> held{true};
  std::thread holder([&] { held = elector.Hold(); });
  std::this_thread::sleep_for(300ms);
  api.SetHolder("someone-else");
  Clock::time_point changed = Clock::now();
  holder.join();
  CHECK(!held);
  CHECK(!client->WritesAllowed());
  // The next renewal (every 200 ms), not the deadline (1.5 s), with slack for a loaded machine.
  CHECK(Seconds(Clock::now() - changed) < 1.4);
}

TEST_CASE("A request with a deadline is abandoned then; without one, a stalled write waits") {
  FakeApi api;
  auto client = NewClient(api.port());
  api.Stall(true);
  auto t0 = Clock::now();
  kube::CallOptions call;
  call.deadline = t0 + 300ms;
  kube::Response r =
      client->Request("get", "GET", "/apis/coordination.k8s.io/v1/namespaces/ns/leases/op", "",
                      "application/json", call);
  CHECK(r.status == 0);
  CHECK(Seconds(Clock::now() - t0) >= 0.29);
  CHECK(Seconds(Clock::now() - t0) < 5.0);  // not the 30 s read timeout
  CHECK_MESSAGE(r.error.find("abandoned: deadline passed") != std::string::npos, r.error);
  // A deadline already passed: not even sent.
  call.deadline = Clock::now() - 1ms;
  kube::Response late = client->Request("get", "GET", "/x", "", "application/json", call);
  CHECK(late.status == 0);
  CHECK(late.error.find("deadline") != std::string::npos);
  api.Stall(false);
}
