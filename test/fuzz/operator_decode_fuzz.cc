// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as API JSON (an object or a watch event) through every
// decoder, then through the pure functions that consume decoded objects. Nothing may crash,
// hang or trip ASan/UBSan.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "operator/api/daemonset.h"
#include "operator/api/decode.h"
#include "operator/reconcile/conflict.h"
#include "operator/reconcile/desired.h"
#include "operator/reconcile/ingress.h"

namespace api = akrobateo::api;
namespace rec = akrobateo::reconcile;

namespace {

void DecodeAll(const nlohmann::json& j) {
  auto svc = api::DecodeService(j);
  auto node = api::DecodeNode(j);
  auto pod = api::DecodePod(j);
  auto slice = api::DecodeEndpointSlice(j);
  (void)api::DecodeDaemonSet(j);
  (void)api::DecodeLease(j);
  (void)api::StatusCode(j);
  if (!svc) return;
  // The same object seen as each kind: feed the consumers.
  auto ds = rec::BuildDaemonSet(*svc, node.ok() && node->enable_lb,
                                {"akrobateo-system", "akrobateo/nftlb:dev"});
  if (ds) (void)api::EncodeDaemonSet(ds->ds, svc->resource_version).dump();
  std::vector<api::Pod> pods;
  if (pod) pods.push_back(*pod);
  std::vector<api::Node> nodes;
  if (node) nodes.push_back(*node);
  std::vector<api::EndpointSlice> slices;
  if (slice) slices.push_back(*slice);
  (void)rec::DesiredIngress(*svc, pods, nodes, slices, std::chrono::system_clock::now());
  api::Service other = *svc;
  other.name += "-2";
  (void)rec::FindPortConflicts(std::vector<const api::Service*>{&*svc, &other});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)api::ParseTolerations(text);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  DecodeAll(j);
  if (j.is_object() && j.contains("object")) DecodeAll(j["object"]);  // a watch event
  if (j.is_object() && j.contains("items") && j["items"].is_array()) {
    for (const auto& item : j["items"]) DecodeAll(item);  // a list
  }
  return 0;
}
