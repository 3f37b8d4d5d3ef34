// SPDX-License-Identifier: Apache-2.0
// The coordination.k8s.io/v1 Lease that leader election writes (leader/lease.h), encoded to API
// JSON. Its decoder, DecodeLease, is with the others in api/decode.h.
#ifndef AKROBATEO_OPERATOR_API_LEASE_H_
#define AKROBATEO_OPERATOR_API_LEASE_H_

#include <nlohmann/json.hpp>
#include <string>

#include "operator/api/types.h"

namespace akrobateo::api {

// The Lease `ns`/`name` holding `lease` (holder, duration, renewTime, transitions) and
// `acquire_time` (MicroTime); metadata.resourceVersion when `lease.resource_version` is set, so
// that an update is conditioned on it.
nlohmann::json EncodeLease(const std::string& ns, const std::string& name, const Lease& lease,
                           const std::string& acquire_time);

}  // namespace akrobateo::api

#endif  // AKROBATEO_OPERATOR_API_LEASE_H_
