// SPDX-License-Identifier: Apache-2.0
// RestTypedClient: TypedClient over the REST client (kube::Client): the paths, the encodings
// and the mapping of each failed response to an error kind (ErrorOf).
#ifndef AKROBATEO_OPERATOR_KUBE_REST_TYPED_CLIENT_H_
#define AKROBATEO_OPERATOR_KUBE_REST_TYPED_CLIENT_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/client.h"
#include "operator/kube/typed_client.h"

namespace akrobateo::kube {

// The error a failed response stands for: its Describe() text, and the kind taken from the
// Status body's `reason` when it names one, else from the HTTP status (no response, 408, 429
// and 5xx are Transient).
Error ErrorOf(const Response& r);

class RestTypedClient : public TypedClient {
 public:
  explicit RestTypedClient(Client* client) : client_(client) {}

 protected:
  Result<api::ObservedDaemonSet> GetDaemonSet(const std::string& ns,
                                              const std::string& name) override;
  Status CreateDaemonSet(const std::string& ns, const api::DaemonSet& ds) override;
  Status UpdateDaemonSet(const std::string& ns, const api::DaemonSet& ds,
                         const std::string& resource_version) override;
  Status DeleteDaemonSet(const std::string& ns, const std::string& name) override;
  Result<std::optional<api::Service>> PatchServiceStatus(
      const std::string& ns, const std::string& name, const api::LoadBalancerStatus& status,
      const std::string& resource_version) override;
  Status CreateEvent(const std::string& ns, const api::Event& event) override;
  Status GetPriorityClass(const std::string& name) override;
  Result<std::optional<api::Service>> PatchServiceFinalizers(
      const std::string& ns, const std::string& name, const std::vector<std::string>& finalizers,
      const std::string& resource_version) override;

  // --- Leases ---
  Result<api::Lease> GetLease(const std::string& ns, const std::string& name,
                              Clock::time_point deadline) override;
  Status CreateLease(const std::string& ns, const std::string& name, const api::Lease& lease,
                     const std::string& acquire_time, Clock::time_point deadline) override;
  Status UpdateLease(const std::string& ns, const std::string& name, const api::Lease& lease,
                     const std::string& acquire_time, Clock::time_point deadline) override;
  // --- end of Leases ---

 private:
  // A JSON merge patch of services/PATH ("name" or "name/status"); the answer decoded.
  Result<std::optional<api::Service>> PatchService(const std::string& ns, const std::string& path,
                                                   const nlohmann::json& patch);
  Client* client_;
};

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_REST_TYPED_CLIENT_H_
