// SPDX-License-Identifier: Apache-2.0
// A small builder of api::Service values for table-driven tests.
#ifndef AKROBATEO_TEST_OPERATOR_SERVICE_BUILDER_H_
#define AKROBATEO_TEST_OPERATOR_SERVICE_BUILDER_H_

#include <string>
#include <vector>

#include "operator/api/types.h"
#include "operator/names.h"

namespace akrobateo::testing {

inline api::Service LbService(const std::string& ns = "default", const std::string& name = "echo",
                              const std::string& uid = "5f0c3f7a-9b1e-4c43-8a57-1d2e3f4a5b6c") {
  api::Service s;
  s.ns = ns;
  s.name = name;
  s.uid = uid;
  s.resource_version = "1";
  s.creation_timestamp = "2026-11-20T08:00:00Z";
  s.type = "LoadBalancer";
  s.cluster_ips = {"10.96.12.34"};
  s.ip_families = {"IPv4"};
  s.ports = {{"http", "TCP", 80, 30080}};
  // As the operator leaves a Service it handles (tests of the finalizer's own steps clear it).
  s.finalizers = {std::string(names::kCleanupFinalizer)};
  return s;
}

}  // namespace akrobateo::testing

#endif  // AKROBATEO_TEST_OPERATOR_SERVICE_BUILDER_H_
