// SPDX-License-Identifier: Apache-2.0
#include "operator/leader/lease.h"

#include <algorithm>
#include <cstdlib>

#include "operator/base/log.h"
#include "operator/base/micro_time.h"

namespace akrobateo::leader {
namespace {

// "namespace/name", as the log lines name the Lease.
std::string LeaseName(const LeaseOptions& o) {
  return o.ns + "/" + o.name;
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
  clock_->WaitFor(cv_, lock, d, [this] { return stop_.load(); });
}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
}

void LeaderElector::Lost(const char* why) {
  fence_->Set(Clock::time_point::min());
  LogError("leader lost", {{"lease", LeaseName(opts_)},
                           {"identity", opts_.identity},
                           Quoted("reason", why),
                           {"writes", "stopped"}});
}

LeaderElector::Outcome LeaderElector::TryAcquireOrRenew(Clock::time_point deadline, bool renewing) {
  // Leadership won by this attempt lasts until the renew deadline counted from *before* the
  // first request: whoever watches the Lease sees our write after that, and waits the whole
  // lease duration from then on before taking over.
  const Clock::time_point started = clock_->Now();
  auto granted = [&] {
    auto until = started + opts_.renew_deadline;
    if (clock_->Now() >= until) return Outcome::kError;  // too late to count
    fence_->Set(until);
    return Outcome::kLeader;
  };
  const kube::TypedClient::LeaseClient leases = api_->Leases(opts_.ns);
  const std::string now = MicroTimeNow();
  api::Lease mine;
  mine.holder = opts_.identity;
  mine.lease_duration_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(opts_.lease_duration).count();
  mine.renew_time = now;
  Result<api::Lease> lease = leases.Get(opts_.name, deadline);
  if (lease.Is(ErrorKind::kNotFound) && !renewing) {
    acquire_time_ = now;
    transitions_ = 0;
    mine.transitions = 0;
    Status created = leases.Create(opts_.name, mine, acquire_time_, deadline);
    if (created) return granted();
    // Someone else was faster: look again.
    if (!created.Is(ErrorKind::kAlreadyExists) && !created.Is(ErrorKind::kConflict)) {
      LogWarn("lease create failed", {Quoted("error", created.error())});
    }
    return Outcome::kError;
  }
  if (!lease) {
    LogWarn("lease get failed", {Quoted("error", lease.error())});
    return Outcome::kError;
  }
  auto steady = clock_->Now();
  bool ours = lease->holder == opts_.identity;
  if (!ours && !lease->holder.empty()) {
    if (lease->holder != observed_holder_ || lease->renew_time != observed_renew_) {
      observed_holder_ = lease->holder;
      observed_renew_ = lease->renew_time;
      observed_at_ = steady;
    }
    // Someone else holds it: while renewing, that alone means we are not the leader any more.
    if (renewing) return Outcome::kHeldByOther;
    auto duration =
        std::chrono::seconds(lease->lease_duration_seconds > 0 ? lease->lease_duration_seconds
                                                               : mine.lease_duration_seconds);
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
  mine.transitions = transitions_;
  mine.resource_version = lease->resource_version;
  // A Lease that is ours without our having acquired it in this process keeps a valid time.
  Status updated =
      leases.Update(opts_.name, mine, acquire_time_.empty() ? now : acquire_time_, deadline);
  if (updated) return granted();
  // Changed under us: look again.
  if (!updated.Is(ErrorKind::kConflict)) {
    LogWarn("lease update failed", {Quoted("error", updated.error())});
  }
  return Outcome::kError;
}

bool LeaderElector::Acquire() {
  LogInfo("leader election started", {{"lease", LeaseName(opts_)},
                                      {"identity", opts_.identity},
                                      {"duration_ms", opts_.lease_duration.count()},
                                      {"renew_deadline_ms", opts_.renew_deadline.count()},
                                      {"retry_period_ms", opts_.retry_period.count()}});
  fence_->Set(Clock::time_point::min());
  bool logged_other = false;
  while (!stop_.load()) {
    Outcome o = TryAcquireOrRenew(clock_->After(opts_.renew_deadline), /*renewing=*/false);
    if (o == Outcome::kLeader) {
      LogInfo("leader elected", {{"lease", LeaseName(opts_)}, {"identity", opts_.identity}});
      return true;
    }
    if (o == Outcome::kHeldByOther && !logged_other) {
      LogInfo("leader is another instance", {{"holder", observed_holder_}});
      logged_other = true;
    }
    Sleep(opts_.retry_period);
  }
  return false;
}

bool LeaderElector::Hold() {
  while (!stop_.load()) {
    // Renewals that succeed move the deadline on; it only ever passes when they do not.
    const Clock::time_point deadline = fence_->Deadline();
    Clock::time_point now = clock_->Now();
    if (now >= deadline) {
      Lost("renew deadline passed without a successful renewal");
      return false;
    }
    Sleep(std::min<Clock::duration>(opts_.retry_period, deadline - now));
    if (stop_.load()) break;
    if (clock_->Now() >= deadline) {
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
  if (!fence_->Allowed()) return;
  const Clock::time_point deadline = fence_->Deadline();
  const kube::TypedClient::LeaseClient leases = api_->Leases(opts_.ns);
  Result<api::Lease> lease = leases.Get(opts_.name, deadline);
  if (!lease || lease->holder != opts_.identity) {
    fence_->Set(Clock::time_point::min());
    return;
  }
  const std::string now = MicroTimeNow();
  api::Lease released;
  released.resource_version = lease->resource_version;
  released.lease_duration_seconds = 1;
  released.renew_time = now;
  released.transitions = lease->transitions;
  Status updated = leases.Update(opts_.name, released, now, deadline);
  fence_->Set(Clock::time_point::min());
  LogInfo("leader lease released", {{"lease", LeaseName(opts_)}, {"ok", updated.ok()}});
}

}  // namespace akrobateo::leader
