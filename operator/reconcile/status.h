// SPDX-License-Identifier: Apache-2.0
// The Service's load-balancer ingress list as a pure function of its balancer pods, the nodes
// and (for externalTrafficPolicy Local) its EndpointSlices (SPEC, "Status").
#pragma once

#include <string>
#include <vector>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

// `pods`: the pods of the Service's DaemonSet. `nodes`: at least the nodes those pods run on.
// `slices`: the Service's EndpointSlices (only read for externalTrafficPolicy Local).
std::vector<std::string> DesiredIngress(const api::Service& svc, const std::vector<api::Pod>& pods,
                                        const std::vector<api::Node>& nodes,
                                        const std::vector<api::EndpointSlice>& slices);

// Families the Service asks for, in order (4 and/or 6).
std::vector<int> RequestedFamilies(const api::Service& svc);

}  // namespace akrobateo::reconcile
