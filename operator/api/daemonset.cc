// SPDX-License-Identifier: Apache-2.0
#include "operator/api/daemonset.h"

#include <openssl/evp.h>

#include <string_view>

#include "operator/names.h"

namespace akrobateo::api {
namespace {

using nlohmann::json;

json Labels(const std::map<std::string, std::string>& m) {
  json out = json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

// A tcpSocket probe on nftlb's readiness port, which listens exactly while the kernel holds the
// rules the container installs (docs/operator.md, "Readiness").
json ReadyProbe(const DaemonSet& ds, int period_seconds, int failure_threshold) {
  return {{"tcpSocket", {{"port", ds.ready_port}}},
          {"periodSeconds", period_seconds},
          {"timeoutSeconds", 1},
          {"successThreshold", 1},
          {"failureThreshold", failure_threshold}};
}

json Encode(const DaemonSet& ds) {
  const std::string container(names::kContainerName);
  json ports = json::array();
  for (const ContainerPort& p : ds.ports) {
    ports.push_back({{"name", p.name},
                     {"containerPort", p.port},
                     {"hostPort", p.port},
                     {"protocol", p.protocol}});
  }
  json c = {
      {"name", container},
      {"image", ds.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", json::array({std::string(names::kNftlbPath)})},
      {"args", ds.args},
      {"ports", ports},
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"limits", {{"memory", "64Mi"}}}}},
      {"securityContext",
       {{"capabilities", {{"drop", {"ALL"}}, {"add", {"NET_ADMIN"}}}},
        {"privileged", false},
        {"readOnlyRootFilesystem", true},
        {"allowPrivilegeEscalation", false},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
  };
  // Readiness only, no startup probe: the kubelet runs a readiness probe that has no result
  // yet as soon as it sees the container running, where a startup probe would wait for its
  // own next tick first. A connect a second costs the node next to nothing (no exec); two
  // failures in a row (nftlb closed the port: its rules are missing and could not be put back)
  // take the node out of the Service's addresses.
  if (ds.ready_port > 0) c["readinessProbe"] = ReadyProbe(ds, 1, 2);
  if (ds.host_ips_env) {
    c["env"] = json::array(
        {{{"name", std::string(names::kHostIpsEnv)},
          {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "status.hostIPs"}}}}}}});
  }
  json tolerations = json::array();
  for (const Toleration& t : ds.tolerations) {
    json o = {{"operator", t.op}};
    if (!t.key.empty()) o["key"] = t.key;
    if (!t.value.empty()) o["value"] = t.value;
    if (!t.effect.empty()) o["effect"] = t.effect;
    if (t.seconds) o["tolerationSeconds"] = *t.seconds;
    tolerations.push_back(std::move(o));
  }
  json pod_spec = {
      {"containers", json::array({c})},
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"tolerations", tolerations},
  };
  if (!ds.priority_class.empty()) pod_spec["priorityClassName"] = ds.priority_class;
  if (!ds.node_selector.empty()) pod_spec["nodeSelector"] = Labels(ds.node_selector);
  if (ds.ipv6_forwarding_sysctl) {
    pod_spec["securityContext"] = {
        {"sysctls", json::array({{{"name", "net.ipv6.conf.all.forwarding"}, {"value", "1"}}})}};
  }
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata", {{"name", ds.name}, {"namespace", ds.ns}, {"labels", Labels(ds.labels)}}},
      {"spec",
       {{"selector", {{"matchLabels", Labels(ds.selector)}}},
        {"revisionHistoryLimit", 2},
        {"updateStrategy", {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxUnavailable", 1}}}}},
        {"template", {{"metadata", {{"labels", Labels(ds.labels)}}}, {"spec", pod_spec}}}}},
  };
}

}  // namespace

std::string SpecHash(const DaemonSet& ds) {
  std::string text = Encode(ds).dump();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len && i < 10; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

json EncodeDaemonSet(const DaemonSet& ds, const std::string& resource_version) {
  json j = Encode(ds);
  j["metadata"]["annotations"] = {{std::string(names::kSpecHashAnnotation), SpecHash(ds)}};
  if (!resource_version.empty()) j["metadata"]["resourceVersion"] = resource_version;
  return j;
}

}  // namespace akrobateo::api
