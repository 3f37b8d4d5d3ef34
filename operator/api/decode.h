// SPDX-License-Identifier: Apache-2.0
// Decoders: API JSON -> the trimmed types of types.h. They never throw and never trust the
// input: missing or mistyped fields become defaults, a non-object is an error naming it.
#ifndef AKROBATEO_OPERATOR_API_DECODE_H_
#define AKROBATEO_OPERATOR_API_DECODE_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/types.h"
#include "operator/base/result.h"

namespace akrobateo::api {

Result<Service> DecodeService(const nlohmann::json& j);
Result<Node> DecodeNode(const nlohmann::json& j);
Result<Pod> DecodePod(const nlohmann::json& j);
Result<EndpointSlice> DecodeEndpointSlice(const nlohmann::json& j);
Result<ObservedDaemonSet> DecodeDaemonSet(const nlohmann::json& j);
Result<PodCreateFailure> DecodePodCreateFailure(const nlohmann::json& j);
Result<Lease> DecodeLease(const nlohmann::json& j);

// Parses the tolerations annotation (a JSON list of core/v1 Toleration) and checks each entry
// as the API server would check it in a pod (key a qualified name, value a label value, known
// operator and effect), so that a bad annotation is a Warning rather than a DaemonSet the API
// refuses. Errors name the offending entry. At most kMaxTolerations entries and
// names::kMaxTolerationsAnnotation bytes.
inline constexpr size_t kMaxTolerations = 32;
Result<std::vector<Toleration>> ParseTolerations(std::string_view text);

// The API's name rules: a DNS-1123 subdomain (PriorityClass names), a qualified name ("prefix/"
// optional; label and taint keys), a label value (may be empty).
bool IsDnsSubdomain(std::string_view s);
bool IsQualifiedName(std::string_view s);
bool IsLabelValue(std::string_view s);

// At most `max` (> 3) bytes, cut on a UTF-8 character boundary; "..." marks a cut. A cut
// inside a character would make nlohmann::json::dump() throw.
std::string Capped(std::string s, size_t max);

// The code of a metav1.Status body (e.g. 410 in a watch ERROR event), or 0.
int StatusCode(const nlohmann::json& j);

}  // namespace akrobateo::api

#endif  // AKROBATEO_OPERATOR_API_DECODE_H_
