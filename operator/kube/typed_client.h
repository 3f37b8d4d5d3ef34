// SPDX-License-Identifier: Apache-2.0
// TypedClient: the API calls the reconciler makes, and nothing else, with typed objects in and
// decoded objects out, and errors that carry a kind (ErrorKind: NotFound, AlreadyExists,
// Conflict, Forbidden, Invalid, Transient, Other) instead of an HTTP status to check.
//
//   client.DaemonSets(ns).Create(ds)      client.Services(ns).PatchStatus(name, status, rv)
//   client.DaemonSets(ns).Update(ds, rv)  client.Events(ns).Create(event)
//   client.Leases(ns).Get(name, deadline) (leader election's; see LeaseClient)
//
// It is an interface so that the reconciler runs against a fake in unit tests
// (test/operator/fake_typed_client.h); RestTypedClient (rest_typed_client.h) is the real one.
#ifndef AKROBATEO_OPERATOR_KUBE_TYPED_CLIENT_H_
#define AKROBATEO_OPERATOR_KUBE_TYPED_CLIENT_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/api/daemonset.h"
#include "operator/api/event.h"
#include "operator/api/types.h"
#include "operator/base/clock.h"
#include "operator/base/result.h"

namespace akrobateo::kube {

class TypedClient {
 public:
  virtual ~TypedClient() = default;

  // The balancer DaemonSets of one namespace (apps/v1).
  class DaemonSetClient {
   public:
    Result<api::ObservedDaemonSet> Get(const std::string& name) const {
      return c_->GetDaemonSet(ns_, name);
    }
    // Create and Update write `ds` (whose namespace must be this one) as EncodeDaemonSet does.
    Status Create(const api::DaemonSet& ds) const { return c_->CreateDaemonSet(ns_, ds); }
    // Conditioned on `resource_version`: a Conflict when the object moved on since.
    Status Update(const api::DaemonSet& ds, const std::string& resource_version) const {
      return c_->UpdateDaemonSet(ns_, ds, resource_version);
    }
    // Background propagation: the pods and ControllerRevisions go too.
    Status Delete(const std::string& name) const { return c_->DeleteDaemonSet(ns_, name); }

   private:
    friend class TypedClient;
    DaemonSetClient(TypedClient* c, std::string ns) : c_(c), ns_(std::move(ns)) {}
    TypedClient* c_;
    std::string ns_;
  };

  // Services of one namespace (v1): only their status is written.
  class ServiceClient {
   public:
    // Sets status.loadBalancer.ingress to one entry per address of `status` (none clears
    // it), each with its ports (when any) and ipMode (when not VIP), with a JSON merge patch
    // through the status subresource, conditioned on `resource_version`. Returns the Service
    // as the API server has it after the write (nothing when that answer does not decode: the
    // write happened all the same).
    Result<std::optional<api::Service>> PatchStatus(const std::string& name,
                                                    const api::LoadBalancerStatus& status,
                                                    const std::string& resource_version) const {
      return c_->PatchServiceStatus(ns_, name, status, resource_version);
    }
    // Sets metadata.finalizers to `finalizers` (the whole list) with a JSON merge patch,
    // conditioned on `resource_version`. Returns the Service as written, like PatchStatus.
    Result<std::optional<api::Service>> PatchFinalizers(const std::string& name,
                                                        const std::vector<std::string>& finalizers,
                                                        const std::string& resource_version) const {
      return c_->PatchServiceFinalizers(ns_, name, finalizers, resource_version);
    }

   private:
    friend class TypedClient;
    ServiceClient(TypedClient* c, std::string ns) : c_(c), ns_(std::move(ns)) {}
    TypedClient* c_;
    std::string ns_;
  };

  // events.k8s.io/v1 Events of one namespace.
  class EventClient {
   public:
    Status Create(const api::Event& event) const { return c_->CreateEvent(ns_, event); }

   private:
    friend class TypedClient;
    EventClient(TypedClient* c, std::string ns) : c_(c), ns_(std::move(ns)) {}
    TypedClient* c_;
    std::string ns_;
  };

  // scheduling.k8s.io/v1 PriorityClasses (cluster-scoped): only whether one exists.
  class PriorityClassClient {
   public:
    // Ok when it exists; NotFound when it does not.
    Status Get(const std::string& name) const { return c_->GetPriorityClass(name); }

   private:
    friend class TypedClient;
    explicit PriorityClassClient(TypedClient* c) : c_(c) {}
    TypedClient* c_;
  };

  DaemonSetClient DaemonSets(std::string ns) { return {this, std::move(ns)}; }
  PriorityClassClient PriorityClasses() { return PriorityClassClient(this); }
  ServiceClient Services(std::string ns) { return {this, std::move(ns)}; }
  EventClient Events(std::string ns) { return {this, std::move(ns)}; }

  // --- Leases (leader election) ---
  // coordination.k8s.io/v1 Leases of one namespace. Every call is abandoned at `deadline` (a
  // Transient error) and is not subject to the write fence (kube/write_fence.h): these are the
  // requests that keep the fence open.
  class LeaseClient {
   public:
    Result<api::Lease> Get(const std::string& name, Clock::time_point deadline) const {
      return c_->GetLease(ns_, name, deadline);
    }
    // Writes `lease` (api/lease.h, EncodeLease) as the Lease `name`: AlreadyExists when a
    // Lease of that name is there.
    Status Create(const std::string& name, const api::Lease& lease, const std::string& acquire_time,
                  Clock::time_point deadline) const {
      return c_->CreateLease(ns_, name, lease, acquire_time, deadline);
    }
    // Conditioned on `lease.resource_version`: a Conflict when the Lease moved on since.
    Status Update(const std::string& name, const api::Lease& lease, const std::string& acquire_time,
                  Clock::time_point deadline) const {
      return c_->UpdateLease(ns_, name, lease, acquire_time, deadline);
    }

   private:
    friend class TypedClient;
    LeaseClient(TypedClient* c, std::string ns) : c_(c), ns_(std::move(ns)) {}
    TypedClient* c_;
    std::string ns_;
  };
  LeaseClient Leases(std::string ns) { return {this, std::move(ns)}; }
  // --- end of Leases ---

 protected:
  // What an implementation provides; callers use the per-resource handles above.
  virtual Result<api::ObservedDaemonSet> GetDaemonSet(const std::string& ns,
                                                      const std::string& name) = 0;
  virtual Status CreateDaemonSet(const std::string& ns, const api::DaemonSet& ds) = 0;
  virtual Status UpdateDaemonSet(const std::string& ns, const api::DaemonSet& ds,
                                 const std::string& resource_version) = 0;
  virtual Status DeleteDaemonSet(const std::string& ns, const std::string& name) = 0;
  virtual Result<std::optional<api::Service>> PatchServiceStatus(
      const std::string& ns, const std::string& name, const api::LoadBalancerStatus& status,
      const std::string& resource_version) = 0;
  virtual Status CreateEvent(const std::string& ns, const api::Event& event) = 0;
  virtual Result<std::optional<api::Service>> PatchServiceFinalizers(
      const std::string& ns, const std::string& name, const std::vector<std::string>& finalizers,
      const std::string& resource_version) = 0;
  virtual Status GetPriorityClass(const std::string& name) = 0;

  // --- Leases ---
  virtual Result<api::Lease> GetLease(const std::string& ns, const std::string& name,
                                      Clock::time_point deadline) = 0;
  virtual Status CreateLease(const std::string& ns, const std::string& name,
                             const api::Lease& lease, const std::string& acquire_time,
                             Clock::time_point deadline) = 0;
  virtual Status UpdateLease(const std::string& ns, const std::string& name,
                             const api::Lease& lease, const std::string& acquire_time,
                             Clock::time_point deadline) = 0;
  // --- end of Leases ---
};

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_TYPED_CLIENT_H_
