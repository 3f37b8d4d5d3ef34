// SPDX-License-Identifier: Apache-2.0
// Timestamps as Kubernetes writes metav1.MicroTime: RFC 3339, UTC, microseconds
// ("2026-12-03T07:12:40.104165Z"). Used by Events, Leases and the JSON log lines alike; and
// the parse of what the API server writes (metav1.Time, seconds; MicroTime, microseconds).
#ifndef AKROBATEO_OPERATOR_BASE_MICRO_TIME_H_
#define AKROBATEO_OPERATOR_BASE_MICRO_TIME_H_

#include <chrono>
#include <optional>
#include <string>

namespace akrobateo {

std::string MicroTime(std::chrono::system_clock::time_point t);
std::string MicroTimeNow();

// "YYYY-MM-DDTHH:MM:SS[.fraction]Z" -> the moment; nullopt for anything else (other offsets
// than Z are not written by the API server).
std::optional<std::chrono::system_clock::time_point> ParseApiTime(const std::string& s);

}  // namespace akrobateo

#endif  // AKROBATEO_OPERATOR_BASE_MICRO_TIME_H_
