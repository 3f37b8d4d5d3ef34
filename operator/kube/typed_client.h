// SPDX-License-Identifier: Apache-2.0
// TypedClient: the API calls the reconciler makes, and nothing else, with typed objects in and
// decoded objects out, and errors that carry a kind (ErrorKind: NotFound, AlreadyExists,
// Conflict, Forbidden, Invalid, Transient, Other) instead of an HTTP status to check.
//
//   client.DaemonSets(ns).Create(ds)      client.Services(ns).PatchStatus(name, status, rv)
//   client.DaemonSets(ns).Update(ds, rv)  client.Events(ns).Create(event)
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
#include "operator/base/result.h"

namespace akrobateo::kube {

class TypedClient {
 public:
  virtual ~TypedClient() = default;

  // The balancer DaemonSets of one namespace (apps/v1).
  class DaemonSetClient {
   public:
    Result<api::DaemonSetInfo> Get(const std::string& name) const {
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

 protected:
  // What an implementation provides; callers use the per-resource handles above.
  virtual Result<api::DaemonSetInfo> GetDaemonSet(const std::string& ns,
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
};

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_TYPED_CLIENT_H_
