// SPDX-License-Identifier: Apache-2.0
// FakeTypedClient: an in-memory kube::TypedClient for reconciler tests. It keeps DaemonSets and
// Services as the API server would (resourceVersions count up; a write conditioned on an old
// one is a Conflict), logs every call in order, and fails the next calls of a verb on demand.
// Leases too, for leader election, whose calls can be stalled until their deadline.
#ifndef AKROBATEO_TEST_OPERATOR_FAKE_TYPED_CLIENT_H_
#define AKROBATEO_TEST_OPERATOR_FAKE_TYPED_CLIENT_H_

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "operator/api/decode.h"
#include "operator/base/clock.h"
#include "operator/kube/typed_client.h"

namespace akrobateo::testing {

class FakeTypedClient : public kube::TypedClient {
 public:
  struct PostedEvent {
    std::string type;
    std::string reason;
    std::string note;
  };

  // The next `verb` ("get", "create", "update", "delete", "patch") calls fail with these, in
  // order, before anything else happens.
  // Every PriorityClass exists but the ones named here.
  void RemovePriorityClass(const std::string& name) {
    std::lock_guard lock(mu_);
    missing_priority_classes_.insert(name);
  }
  void FailNext(const std::string& verb, Error e) {
    std::lock_guard lock(mu_);
    failures_[verb].push_back(std::move(e));
  }
  // State as the API server has it.
  void PutDaemonSet(const api::ObservedDaemonSet& ds) {
    std::lock_guard lock(mu_);
    daemonsets_[ds.ns + "/" + ds.name] = ds;
  }
  void PutService(const api::Service& svc) {
    std::lock_guard lock(mu_);
    services_[svc.ns + "/" + svc.name] = svc;
  }
  std::optional<api::ObservedDaemonSet> DaemonSet(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = daemonsets_.find(key);
    if (it == daemonsets_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<api::ObservedDaemonSet> DaemonSets() {
    std::lock_guard lock(mu_);
    std::vector<api::ObservedDaemonSet> out;
    for (const auto& [k, ds] : daemonsets_) out.push_back(ds);
    return out;
  }
  std::optional<api::Service> Service(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = services_.find(key);
    if (it == services_.end()) return std::nullopt;
    return it->second;
  }
  // "create akrobateo-system/name", "update .../name rv=3", "get ...", "delete ...",
  // "patch default/echo ingress=a,b rv=1".
  std::vector<std::string> Calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  // The writes only (no get), to check that nothing was written.
  std::vector<std::string> Writes() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const std::string& c : calls_) {
      if (c.rfind("get ", 0) != 0) out.push_back(c);
    }
    return out;
  }
  std::vector<PostedEvent> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }
  void ClearLog() {
    std::lock_guard lock(mu_);
    calls_.clear();
    events_.clear();
  }

  // --- Leases ---
  // The clock that Lease calls' deadlines are on.
  void SetClock(Clock* clock) { clock_ = clock; }
  // While stalled, a Lease call hangs until it is un-stalled or its deadline passes (then it
  // fails as abandoned, a Transient error), as a request on a stalled connection would.
  void StallLeases(bool on) {
    {
      std::lock_guard lock(mu_);
      leases_stalled_ = on;
    }
    leases_cv_.notify_all();
  }
  std::optional<api::Lease> Lease(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = leases_.find(key);
    if (it == leases_.end()) return std::nullopt;
    return it->second;
  }
  // Another instance writes the Lease `key`.
  void PutLease(const std::string& key, api::Lease lease) {
    std::lock_guard lock(mu_);
    lease.resource_version = NextVersion();
    leases_[key] = std::move(lease);
  }
  // Lease creates and updates that succeeded.
  int LeaseWrites() {
    std::lock_guard lock(mu_);
    return lease_writes_;
  }
  // --- end of Leases ---

 protected:
  Result<api::ObservedDaemonSet> GetDaemonSet(const std::string& ns,
                                              const std::string& name) override {
    std::lock_guard lock(mu_);
    calls_.push_back("get " + ns + "/" + name);
    if (auto e = Failure("get")) return *e;
    auto it = daemonsets_.find(ns + "/" + name);
    if (it == daemonsets_.end()) return Error{"not found", ErrorKind::kNotFound};
    return it->second;
  }
  Status CreateDaemonSet(const std::string& ns, const api::DaemonSet& ds) override {
    std::lock_guard lock(mu_);
    calls_.push_back("create " + ns + "/" + ds.name);
    if (auto e = Failure("create")) return *e;
    if (daemonsets_.count(ns + "/" + ds.name) != 0) {
      return Error{"already exists", ErrorKind::kAlreadyExists};
    }
    return Store(ns, ds);
  }
  Status UpdateDaemonSet(const std::string& ns, const api::DaemonSet& ds,
                         const std::string& resource_version) override {
    std::lock_guard lock(mu_);
    calls_.push_back("update " + ns + "/" + ds.name + " rv=" + resource_version);
    if (auto e = Failure("update")) return *e;
    auto it = daemonsets_.find(ns + "/" + ds.name);
    if (it == daemonsets_.end()) return Error{"not found", ErrorKind::kNotFound};
    if (it->second.resource_version != resource_version) {
      return Error{"the object has been modified", ErrorKind::kConflict};
    }
    return Store(ns, ds);
  }
  Status DeleteDaemonSet(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mu_);
    calls_.push_back("delete " + ns + "/" + name);
    if (auto e = Failure("delete")) return *e;
    if (daemonsets_.erase(ns + "/" + name) == 0) return Error{"not found", ErrorKind::kNotFound};
    return Ok();
  }
  Result<std::optional<api::Service>> PatchServiceStatus(
      const std::string& ns, const std::string& name, const api::LoadBalancerStatus& status,
      const std::string& resource_version) override {
    std::lock_guard lock(mu_);
    std::string ips;
    for (const std::string& ip : status.ips) ips += (ips.empty() ? "" : ",") + ip;
    std::string port_text = status.ip_mode.empty() ? "" : " ipMode=" + status.ip_mode;
    for (const api::IngressPort& p : status.ports) {
      port_text +=
          " " + p.protocol + "/" + std::to_string(p.port) + (p.error.empty() ? "" : "!" + p.error);
    }
    calls_.push_back("patch " + ns + "/" + name + " ingress=" + ips + port_text +
                     " rv=" + resource_version);
    if (auto e = Failure("patch")) return *e;
    auto it = services_.find(ns + "/" + name);
    if (it == services_.end()) return Error{"not found", ErrorKind::kNotFound};
    if (it->second.resource_version != resource_version) {
      return Error{"the object has been modified", ErrorKind::kConflict};
    }
    it->second.ingress = status.ips;
    it->second.ingress_ports = status.ports;
    it->second.ingress_ip_mode = status.ip_mode;
    it->second.ingress_has_other_fields = false;
    it->second.resource_version = NextVersion();
    return std::optional<api::Service>(it->second);
  }
  Result<std::optional<api::Service>> PatchServiceFinalizers(
      const std::string& ns, const std::string& name, const std::vector<std::string>& finalizers,
      const std::string& resource_version) override {
    std::lock_guard lock(mu_);
    std::string list;
    for (const std::string& f : finalizers) list += (list.empty() ? "" : ",") + f;
    calls_.push_back("patch " + ns + "/" + name + " finalizers=" + list +
                     " rv=" + resource_version);
    if (auto e = Failure("patch")) return *e;
    auto it = services_.find(ns + "/" + name);
    if (it == services_.end()) return Error{"not found", ErrorKind::kNotFound};
    if (it->second.resource_version != resource_version) {
      return Error{"the object has been modified", ErrorKind::kConflict};
    }
    it->second.finalizers = finalizers;
    it->second.resource_version = NextVersion();
    return std::optional<api::Service>(it->second);
  }
  Status GetPriorityClass(const std::string& name) override {
    std::lock_guard lock(mu_);
    calls_.push_back("get priorityclass " + name);
    if (missing_priority_classes_.count(name) != 0) {
      return Error{"priorityclasses.scheduling.k8s.io \"" + name + "\" not found",
                   ErrorKind::kNotFound};
    }
    return Ok();
  }
  Status CreateEvent(const std::string&, const api::Event& event) override {
    std::lock_guard lock(mu_);
    events_.push_back({event.type, event.reason, event.note});
    return Ok();
  }

  // --- Leases ---
  Result<api::Lease> GetLease(const std::string& ns, const std::string& name,
                              Clock::time_point deadline) override {
    std::unique_lock lock(mu_);
    if (auto e = LeaseGate(lock, deadline)) return *e;
    auto it = leases_.find(ns + "/" + name);
    if (it == leases_.end()) return Error{"not found", ErrorKind::kNotFound};
    return it->second;
  }
  Status CreateLease(const std::string& ns, const std::string& name, const api::Lease& lease,
                     const std::string&, Clock::time_point deadline) override {
    std::unique_lock lock(mu_);
    if (auto e = LeaseGate(lock, deadline)) return *e;
    if (leases_.count(ns + "/" + name) != 0) {
      return Error{"already exists", ErrorKind::kAlreadyExists};
    }
    return StoreLease(ns + "/" + name, lease);
  }
  Status UpdateLease(const std::string& ns, const std::string& name, const api::Lease& lease,
                     const std::string&, Clock::time_point deadline) override {
    std::unique_lock lock(mu_);
    if (auto e = LeaseGate(lock, deadline)) return *e;
    auto it = leases_.find(ns + "/" + name);
    if (it == leases_.end()) return Error{"not found", ErrorKind::kNotFound};
    if (it->second.resource_version != lease.resource_version) {
      return Error{"the object has been modified", ErrorKind::kConflict};
    }
    return StoreLease(it->first, lease);
  }
  // --- end of Leases ---

 private:
  std::optional<Error> Failure(const std::string& verb) {
    auto it = failures_.find(verb);
    if (it == failures_.end() || it->second.empty()) return std::nullopt;
    Error e = it->second.front();
    it->second.pop_front();
    return e;
  }
  std::string NextVersion() { return std::to_string(++version_); }
  // A stalled Lease call waits here; the error when its deadline passed.
  std::optional<Error> LeaseGate(std::unique_lock<std::mutex>& lock, Clock::time_point deadline) {
    if (clock_->Now() >= deadline) return Error{"not sent: deadline passed", ErrorKind::kTransient};
    if (!clock_->WaitUntil(leases_cv_, lock, deadline, [this] { return !leases_stalled_; })) {
      return Error{"abandoned: deadline passed", ErrorKind::kTransient};
    }
    return std::nullopt;
  }
  Status StoreLease(const std::string& key, api::Lease lease) {
    lease.resource_version = NextVersion();
    leases_[key] = std::move(lease);
    ++lease_writes_;
    return Ok();
  }
  // As the API server would: the object as written, decoded as the DaemonSet cache decodes it.
  Status Store(const std::string& ns, const api::DaemonSet& ds) {
    nlohmann::json j = api::EncodeDaemonSet(ds, NextVersion());
    j["metadata"]["namespace"] = ns;
    j["metadata"]["uid"] = "uid-" + ds.name;
    Result<api::ObservedDaemonSet> info = api::DecodeDaemonSet(j);
    if (!info) return Error{info.error(), ErrorKind::kInvalid};
    daemonsets_[ns + "/" + ds.name] = *info;
    return Ok();
  }

  std::mutex mu_;
  int version_ = 100;
  std::map<std::string, api::ObservedDaemonSet> daemonsets_;
  std::map<std::string, api::Service> services_;
  std::map<std::string, std::deque<Error>> failures_;
  std::set<std::string> missing_priority_classes_;
  std::vector<std::string> calls_;
  std::vector<PostedEvent> events_;
  Clock* clock_ = Clock::Real();
  std::condition_variable leases_cv_;
  bool leases_stalled_ = false;
  std::map<std::string, api::Lease> leases_;
  int lease_writes_ = 0;
};

}  // namespace akrobateo::testing

#endif  // AKROBATEO_TEST_OPERATOR_FAKE_TYPED_CLIENT_H_
