// SPDX-License-Identifier: Apache-2.0
#include "operator/leader/lease.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "operator/api/decode.h"
#include "operator/base/log.h"
#include "operator/base/micro_time.h"

namespace akrobateo::leader {
namespace {

using nlohmann::json;

std::string LeasePath(const std::string& ns, const std::string& name = "") {
  return "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases" +
         (name.empty() ? "" : "/" + name);
}

}  // namespace

Status CheckTimings(const LeaseOptions& o) {
  using std::chrono::milliseconds;
  if (o.retry_period <= milliseconds(0)) return Error{"the retry period must be positive"};
  if (o.lease_duration.count() % 1000 != 0 || o.lease_duration < milliseconds(1000)) {
    return Error{"the lease duration must be a whole number of seconds, at least 1s"};
  }
  if (o.renew_deadline <= o.retry_period) {
    return Error{"the renew deadline must be longer than the retry period"};
  }
  if (o.lease_duration <= o.renew_deadline) {
    return Error{"the lease duration must be longer than the renew deadline"};
  }
  return Ok();
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit(end);
  double ms = 0;
  if (end == s.c_str() || !(v >= 0)) return Error{"bad duration \"" + s + "\""};
  if (unit.empty() || unit == "s") {
    ms = v * 1000;
  } else if (unit == "ms") {
    ms = v;
  } else if (unit == "m") {
    ms = v * 60000;
  } else if (unit == "h") {
    ms = v * 3600000;
  } else {
    return Error{"bad duration \"" + s + "\" (units: ms, s, m, h)"};
  }
  if (ms > 1e9) return Error{"duration \"" + s + "\" is too long"};
  return std::chrono::milliseconds(static_cast<int64_t>(ms + 0.5));
}

void LeaderElector::Sleep(Clock::duration d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
}

void LeaderElector::Lost(const char* why) {
  client_->FenceWrites(Clock::time_point::min());
  spdlog::error("leader lost lease={}/{} identity={} reason=\"{}\"; writes stopped", opts_.ns,
                opts_.name, opts_.identity, why);
}

LeaderElector::Outcome LeaderElector::TryAcquireOrRenew(Clock::time_point deadline, bool renewing) {
  // Leadership won by this attempt lasts until the renew deadline counted from *before* the
  // first request: whoever watches the Lease sees our write after that, and waits the whole
  // lease duration from then on before taking over.
  const Clock::time_point started = Clock::now();
  const kube::CallOptions call{deadline, /*unfenced=*/true};
  auto granted = [&] {
    auto until = started + opts_.renew_deadline;
    if (Clock::now() >= until) return Outcome::kError;  // too late to count
    client_->FenceWrites(until);
    return Outcome::kLeader;
  };
  std::string now = MicroTimeNow();
  const int64_t duration_s =
      std::chrono::duration_cast<std::chrono::seconds>(opts_.lease_duration).count();
  auto body = [&](const std::string& holder, int64_t duration, const std::string& rv) {
    json spec = {{"holderIdentity", holder},
                 {"leaseDurationSeconds", duration},
                 {"acquireTime", acquire_time_.empty() ? now : acquire_time_},
                 {"renewTime", now},
                 {"leaseTransitions", transitions_}};
    json meta = {{"name", opts_.name}, {"namespace", opts_.ns}};
    if (!rv.empty()) meta["resourceVersion"] = rv;
    return json{{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", meta},
                {"spec", spec}}
        .dump();
  };
  kube::Response g =
      client_->Request("get", "GET", LeasePath(opts_.ns, opts_.name), "", "application/json", call);
  if (g.status == 404 && !renewing) {
    acquire_time_ = now;
    transitions_ = 0;
    kube::Response c =
        client_->Request("create", "POST", LeasePath(opts_.ns),
                         body(opts_.identity, duration_s, ""), "application/json", call);
    if (c.ok()) return granted();
    if (c.status == 409) return Outcome::kError;  // someone else was faster: look again
    spdlog::warn("lease create failed error={}", Quote(c.Describe()));
    return Outcome::kError;
  }
  if (!g.ok()) {
    spdlog::warn("lease get failed error={}", Quote(g.Describe()));
    return Outcome::kError;
  }
  auto lease = api::DecodeLease(json::parse(g.body, nullptr, false));
  if (!lease) return Outcome::kError;
  auto steady = Clock::now();
  bool ours = lease->holder == opts_.identity;
  if (!ours && !lease->holder.empty()) {
    if (lease->holder != observed_holder_ || lease->renew_time != observed_renew_) {
      observed_holder_ = lease->holder;
      observed_renew_ = lease->renew_time;
      observed_at_ = steady;
    }
    // Someone else holds it: while renewing, that alone means we are not the leader any more.
    if (renewing) return Outcome::kHeldByOther;
    auto duration = std::chrono::seconds(
        lease->lease_duration_seconds > 0 ? lease->lease_duration_seconds : duration_s);
    if (steady - observed_at_ < duration) return Outcome::kHeldByOther;
  }
  if (!ours && renewing) {  // released by someone: not ours any more
    observed_holder_.clear();
    return Outcome::kHeldByOther;
  }
  if (!ours) {
    acquire_time_ = now;
    transitions_ = lease->transitions + (lease->holder.empty() ? 0 : 1);
  } else {
    transitions_ = lease->transitions;
  }
  kube::Response u = client_->Request("update", "PUT", LeasePath(opts_.ns, opts_.name),
                                      body(opts_.identity, duration_s, lease->resource_version),
                                      "application/json", call);
  if (u.ok()) {
    if (auto l = api::DecodeLease(json::parse(u.body, nullptr, false))) {
      resource_version_ = l->resource_version;
    }
    return granted();
  }
  if (u.status == 409) return Outcome::kError;  // changed under us: look again
  spdlog::warn("lease update failed error={}", Quote(u.Describe()));
  return Outcome::kError;
}

bool LeaderElector::Acquire() {
  spdlog::info(
      "leader election started lease={}/{} identity={} duration_ms={} "
      "renew_deadline_ms={} retry_period_ms={}",
      opts_.ns, opts_.name, opts_.identity, opts_.lease_duration.count(),
      opts_.renew_deadline.count(), opts_.retry_period.count());
  client_->FenceWrites(Clock::time_point::min());
  bool logged_other = false;
  while (!stop_.load()) {
    Outcome o = TryAcquireOrRenew(Clock::now() + opts_.renew_deadline, /*renewing=*/false);
    if (o == Outcome::kLeader) {
      spdlog::info("leader elected lease={}/{} identity={}", opts_.ns, opts_.name, opts_.identity);
      return true;
    }
    if (o == Outcome::kHeldByOther && !logged_other) {
      spdlog::info("leader is another instance holder={}", observed_holder_);
      logged_other = true;
    }
    Sleep(opts_.retry_period);
  }
  return false;
}

bool LeaderElector::Hold() {
  while (!stop_.load()) {
    // Renewals that succeed move the deadline on; it only ever passes when they do not.
    const Clock::time_point deadline = client_->WriteDeadline();
    Clock::time_point now = Clock::now();
    if (now >= deadline) {
      Lost("renew deadline passed without a successful renewal");
      return false;
    }
    Sleep(std::min<Clock::duration>(opts_.retry_period, deadline - now));
    if (stop_.load()) break;
    if (Clock::now() >= deadline) {
      Lost("renew deadline passed without a successful renewal");
      return false;
    }
    if (TryAcquireOrRenew(deadline, /*renewing=*/true) == Outcome::kHeldByOther) {
      std::string why = observed_holder_.empty() ? "the Lease was released"
                                                 : "the Lease is held by " + observed_holder_;
      Lost(why.c_str());
      return false;
    }
  }
  return true;
}

void LeaderElector::Release() {
  if (!client_->WritesAllowed()) return;
  const kube::CallOptions call{client_->WriteDeadline(), /*unfenced=*/true};
  kube::Response g =
      client_->Request("get", "GET", LeasePath(opts_.ns, opts_.name), "", "application/json", call);
  auto lease = g.ok() ? api::DecodeLease(json::parse(g.body, nullptr, false))
                      : Result<api::Lease>(Error{g.Describe()});
  if (!lease || lease->holder != opts_.identity) {
    client_->FenceWrites(Clock::time_point::min());
    return;
  }
  std::string now = MicroTimeNow();
  json doc = {{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata",
               {{"name", opts_.name},
                {"namespace", opts_.ns},
                {"resourceVersion", lease->resource_version}}},
              {"spec",
               {{"holderIdentity", ""},
                {"leaseDurationSeconds", 1},
                {"acquireTime", now},
                {"renewTime", now},
                {"leaseTransitions", lease->transitions}}}};
  kube::Response u = client_->Request("update", "PUT", LeasePath(opts_.ns, opts_.name), doc.dump(),
                                      "application/json", call);
  client_->FenceWrites(Clock::time_point::min());
  spdlog::info("leader lease released lease={}/{} ok={}", opts_.ns, opts_.name, u.ok());
}

}  // namespace akrobateo::leader
