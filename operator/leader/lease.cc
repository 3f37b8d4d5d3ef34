#include "operator/leader/lease.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "operator/api/decode.h"
#include "operator/reconcile/events.h"

namespace akrobateo::leader {
namespace {

using nlohmann::json;

std::string LeasePath(const std::string& ns, const std::string& name = "") {
  return "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases" +
         (name.empty() ? "" : "/" + name);
}

}  // namespace

void LeaderElector::Sleep(std::chrono::steady_clock::duration d) {
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

LeaderElector::Outcome LeaderElector::TryAcquireOrRenew() {
  std::string now = reconcile::MicroTimeNow();
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
  kube::Response g = client_->Request("get", "GET", LeasePath(opts_.ns, opts_.name));
  if (g.status == 404) {
    acquire_time_ = now;
    transitions_ = 0;
    kube::Response c = client_->Request("create", "POST", LeasePath(opts_.ns),
                                        body(opts_.identity, opts_.lease_duration.count(), ""));
    if (c.ok()) return Outcome::kLeader;
    if (c.status == 409) return Outcome::kHeldByOther;
    spdlog::warn("lease create failed error=\"{}\"", c.Describe());
    return Outcome::kError;
  }
  if (!g.ok()) {
    spdlog::warn("lease get failed error=\"{}\"", g.Describe());
    return Outcome::kError;
  }
  auto lease = api::DecodeLease(json::parse(g.body, nullptr, false));
  if (!lease) return Outcome::kError;
  auto steady = std::chrono::steady_clock::now();
  bool ours = lease->holder == opts_.identity;
  if (!ours && !lease->holder.empty()) {
    if (lease->holder != observed_holder_ || lease->renew_time != observed_renew_) {
      observed_holder_ = lease->holder;
      observed_renew_ = lease->renew_time;
      observed_at_ = steady;
    }
    auto duration =
        std::chrono::seconds(lease->lease_duration_seconds > 0 ? lease->lease_duration_seconds
                                                               : opts_.lease_duration.count());
    if (steady - observed_at_ < duration) return Outcome::kHeldByOther;
  }
  if (!ours) {
    acquire_time_ = now;
    transitions_ = lease->transitions + (lease->holder.empty() ? 0 : 1);
  } else {
    transitions_ = lease->transitions;
  }
  kube::Response u =
      client_->Request("update", "PUT", LeasePath(opts_.ns, opts_.name),
                       body(opts_.identity, opts_.lease_duration.count(), lease->resource_version));
  if (u.ok()) {
    if (auto l = api::DecodeLease(json::parse(u.body, nullptr, false))) {
      resource_version_ = l->resource_version;
    }
    return Outcome::kLeader;
  }
  if (u.status == 409) return Outcome::kHeldByOther;
  spdlog::warn("lease update failed error=\"{}\"", u.Describe());
  return Outcome::kError;
}

bool LeaderElector::Acquire() {
  spdlog::info("leader election started lease={}/{} identity={}", opts_.ns, opts_.name,
               opts_.identity);
  bool logged_other = false;
  while (!stop_.load()) {
    Outcome o = TryAcquireOrRenew();
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
  auto last_renew = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    Sleep(opts_.retry_period);
    if (stop_.load()) break;
    if (TryAcquireOrRenew() == Outcome::kLeader) {
      last_renew = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_renew > opts_.renew_deadline) {
      spdlog::error("leader lost lease={}/{} identity={}", opts_.ns, opts_.name, opts_.identity);
      return false;
    }
  }
  return true;
}

void LeaderElector::Release() {
  kube::Response g = client_->Request("get", "GET", LeasePath(opts_.ns, opts_.name));
  if (!g.ok()) return;
  auto lease = api::DecodeLease(json::parse(g.body, nullptr, false));
  if (!lease || lease->holder != opts_.identity) return;
  std::string now = reconcile::MicroTimeNow();
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
  kube::Response u = client_->Request("update", "PUT", LeasePath(opts_.ns, opts_.name), doc.dump());
  spdlog::info("leader lease released lease={}/{} ok={}", opts_.ns, opts_.name, u.ok());
}

}  // namespace akrobateo::leader
