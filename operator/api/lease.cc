// SPDX-License-Identifier: Apache-2.0
#include "operator/api/lease.h"

namespace akrobateo::api {

nlohmann::json EncodeLease(const std::string& ns, const std::string& name, const Lease& lease,
                           const std::string& acquire_time) {
  nlohmann::json meta = {{"name", name}, {"namespace", ns}};
  if (!lease.resource_version.empty()) meta["resourceVersion"] = lease.resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", meta},
          {"spec",
           {{"holderIdentity", lease.holder},
            {"leaseDurationSeconds", lease.lease_duration_seconds},
            {"acquireTime", acquire_time},
            {"renewTime", lease.renew_time},
            {"leaseTransitions", lease.transitions}}}};
}

}  // namespace akrobateo::api
