// SPDX-License-Identifier: Apache-2.0
// Timestamps as Kubernetes writes metav1.MicroTime: RFC 3339, UTC, microseconds
// ("2026-12-03T07:12:40.104165Z"). Used by Events, Leases and the JSON log lines alike.
#pragma once

#include <chrono>
#include <string>

namespace akrobateo {

std::string MicroTime(std::chrono::system_clock::time_point t);
std::string MicroTimeNow();

}  // namespace akrobateo
