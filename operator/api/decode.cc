// SPDX-License-Identifier: Apache-2.0
#include "operator/api/decode.h"

#include <algorithm>
#include <limits>
#include <string>

#include "operator/base/micro_time.h"
#include "operator/names.h"

namespace akrobateo::api {
namespace {

using nlohmann::json;

// Field lookup that tolerates any JSON shape: null when `j` is no object or lacks `key`.
const json* Get(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end()) return nullptr;
  return &*it;
}

std::string Str(const json& j, std::string_view key) {
  const json* v = Get(j, key);
  return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

std::optional<std::string> OptStr(const json& j, std::string_view key) {
  const json* v = Get(j, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

int64_t Int(const json& j, std::string_view key) {
  const json* v = Get(j, key);
  if (v == nullptr) return 0;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(u);
  }
  return 0;
}

int32_t Int32(const json& j, std::string_view key) {
  int64_t v = Int(j, key);
  if (v < 0 || v > std::numeric_limits<int32_t>::max()) return 0;
  return static_cast<int32_t>(v);
}

const json& Obj(const json& j, std::string_view key) {
  static const json kEmpty = json::object();
  const json* v = Get(j, key);
  return (v != nullptr && v->is_object()) ? *v : kEmpty;
}

const json& Arr(const json& j, std::string_view key) {
  static const json kEmpty = json::array();
  const json* v = Get(j, key);
  return (v != nullptr && v->is_array()) ? *v : kEmpty;
}

std::vector<std::string> StrList(const json& j, std::string_view key) {
  std::vector<std::string> out;
  for (const json& v : Arr(j, key)) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Result<const json*> Metadata(const json& j, std::string_view kind) {
  if (!j.is_object()) return Error{std::string(kind) + ": not a JSON object"};
  const json& meta = Obj(j, "metadata");
  if (Str(meta, "name").empty()) return Error{std::string(kind) + ": metadata.name missing"};
  return &meta;
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

// The node a DaemonSet pod is meant for: the controller pins each pod with a required node
// affinity term `matchFields: metadata.name In [<node>]`.
std::string AffinityNode(const json& spec) {
  const json& required = Obj(Obj(Obj(spec, "affinity"), "nodeAffinity"),
                             "requiredDuringSchedulingIgnoredDuringExecution");
  for (const json& term : Arr(required, "nodeSelectorTerms")) {
    for (const json& f : Arr(term, "matchFields")) {
      const json& values = Arr(f, "values");
      if (Str(f, "key") == "metadata.name" && Str(f, "operator") == "In" && values.size() == 1 &&
          values[0].is_string()) {
        return Capped(values[0].get<std::string>(), 253);
      }
    }
  }
  return "";
}

// A label whose value is a decimal number (the DaemonSet controller's pod-template-generation);
// 0 when absent or not a number that fits.
int64_t Int64Label(const json& labels, std::string_view key) {
  std::string v = Str(labels, key);
  if (v.empty() || v.size() > 18) return 0;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

}  // namespace

std::string Capped(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max - 3;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s + "...";
}

Result<Service> DecodeService(const json& j) {
  auto meta = Metadata(j, "Service");
  if (!meta) return Error{meta.error()};
  const json& m = **meta;
  const json& spec = Obj(j, "spec");
  Service s;
  s.ns = Str(m, "namespace");
  s.name = Str(m, "name");
  s.uid = Str(m, "uid");
  s.resource_version = Str(m, "resourceVersion");
  s.creation_timestamp = Str(m, "creationTimestamp");
  s.being_deleted = Get(m, "deletionTimestamp") != nullptr;
  s.finalizers = StrList(m, "finalizers");
  s.type = Str(spec, "type");
  if (s.type.empty()) s.type = "ClusterIP";
  s.load_balancer_class = OptStr(spec, "loadBalancerClass");

  std::vector<std::string> ips = StrList(spec, "clusterIPs");
  if (ips.empty()) {
    std::string one = Str(spec, "clusterIP");
    if (!one.empty()) ips.push_back(one);
  }
  for (std::string& ip : ips) {
    if (!ip.empty() && ip != "None") s.cluster_ips.push_back(std::move(ip));
  }
  s.ip_families = StrList(spec, "ipFamilies");

  // Every Service's nodePorts are node ports no LoadBalancer port may take (port_policy.h).
  for (const json& p : Arr(spec, "ports")) {
    if (int32_t np = Int32(p, "nodePort"); np > 0) s.node_ports.push_back(np);
  }
  if (int32_t hc = Int32(spec, "healthCheckNodePort"); hc > 0) s.node_ports.push_back(hc);
  // The rest of the ports and spec matter only for the Services the operator may handle; skip
  // them for the others to keep the cache small.
  if (s.type == "LoadBalancer") {
    for (const json& p : Arr(spec, "ports")) {
      ServicePort port;
      port.name = Str(p, "name");
      port.protocol = Str(p, "protocol");
      if (port.protocol.empty()) port.protocol = "TCP";
      port.port = Int32(p, "port");
      port.node_port = Int32(p, "nodePort");
      s.ports.push_back(std::move(port));
    }
    s.external_traffic_local = Str(spec, "externalTrafficPolicy") == "Local";
    s.source_ranges = StrList(spec, "loadBalancerSourceRanges");
    const json& annotations = Obj(m, "annotations");
    if (s.source_ranges.empty()) {
      // The older annotation form, honoured like upstream's GetLoadBalancerSourceRanges.
      std::string legacy = Str(annotations, names::kLegacySourceRangesAnnotation);
      size_t start = 0;
      while (!legacy.empty() && start <= legacy.size()) {
        size_t comma = legacy.find(',', start);
        std::string part = Trim(
            legacy.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!part.empty()) s.source_ranges.push_back(part);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    for (std::string& r : s.source_ranges) r = Trim(r);
    s.lb_pool = Str(Obj(m, "labels"), names::kLbPoolLabel);
    s.load_balancer_ip = OptStr(spec, "loadBalancerIP");
    if (s.load_balancer_ip && s.load_balancer_ip->empty()) s.load_balancer_ip.reset();
    s.tolerations_json = OptStr(annotations, names::kTolerationsAnnotation);
    // A longer one is refused whole (ParseTolerations); the cache keeps no more of it.
    if (s.tolerations_json && s.tolerations_json->size() > names::kMaxTolerationsAnnotation) {
      s.tolerations_json->resize(names::kMaxTolerationsAnnotation + 1);
    }
    s.priority_class = OptStr(annotations, names::kPriorityClassAnnotation);
  }
  bool first = true;
  for (const json& in : Arr(Obj(Obj(j, "status"), "loadBalancer"), "ingress")) {
    std::string ip = Str(in, "ip");
    if (!ip.empty()) s.ingress.push_back(ip);
    std::vector<IngressPort> ports;
    for (const json& p : Arr(in, "ports")) {
      ports.push_back({Int32(p, "port"), Str(p, "protocol"), Str(p, "error")});
    }
    // The API server defaults ipMode to VIP. Entries that differ in ports or ipMode were not
    // written by the operator (it writes the same on each).
    std::string mode = Str(in, "ipMode");
    if (mode == "VIP") mode.clear();
    if (ip.empty() || Get(in, "hostname") != nullptr ||
        (!first && (ports != s.ingress_ports || mode != s.ingress_ip_mode))) {
      s.ingress_has_other_fields = true;
    }
    if (first) {
      s.ingress_ports = std::move(ports);
      s.ingress_ip_mode = std::move(mode);
    }
    first = false;
  }
  return s;
}

Result<Node> DecodeNode(const json& j) {
  auto meta = Metadata(j, "Node");
  if (!meta) return Error{meta.error()};
  const json& m = **meta;
  Node n;
  n.name = Str(m, "name");
  const json& labels = Obj(m, "labels");
  n.enable_lb = Str(labels, names::kEnableLbLabel) == "true";
  for (const json& a : Arr(Obj(j, "status"), "addresses")) {
    std::string type = Str(a, "type");
    std::string addr = Str(a, "address");
    if (addr.empty()) continue;
    if (type == "InternalIP") n.internal_ips.push_back(addr);
    if (type == "ExternalIP") n.external_ips.push_back(addr);
  }
  return n;
}

Result<Pod> DecodePod(const json& j) {
  auto meta = Metadata(j, "Pod");
  if (!meta) return Error{meta.error()};
  const json& m = **meta;
  Pod p;
  p.ns = Str(m, "namespace");
  p.name = Str(m, "name");
  const json& labels = Obj(m, "labels");
  p.service_ns = Str(labels, names::kServiceNamespaceLabel);
  p.service_name = Str(labels, names::kServiceNameLabel);
  p.service_uid = Str(labels, names::kServiceUidLabel);
  p.node_name = Str(Obj(j, "spec"), "nodeName");
  p.template_generation = Int64Label(labels, names::kPodTemplateGenerationLabel);
  const json& status = Obj(j, "status");
  bool deleting = Get(m, "deletionTimestamp") != nullptr;
  if (deleting) {
    if (auto t = ParseApiTime(Str(m, "deletionTimestamp"))) {
      p.deleting_since =
          *t - std::chrono::seconds(std::max<int64_t>(
                   0, std::min<int64_t>(Int(m, "deletionGracePeriodSeconds"), int64_t{1} << 31)));
    }
  }
  bool has_ready = false;
  for (const json& c : Arr(status, "conditions")) {
    std::string type = Str(c, "type");
    if (type == "Ready") {
      has_ready = true;
      p.ready = Str(c, "status") == "True" && !deleting;
      if (!p.ready && !deleting) {
        if (auto t = ParseApiTime(Str(c, "lastTransitionTime"))) p.not_ready_since = *t;
      }
    }
    if (type == "PodScheduled" && Str(c, "status") == "False" &&
        Str(c, "reason") == "Unschedulable" && !deleting) {
      p.unschedulable = true;
      p.scheduler_message = Capped(Str(c, "message"), kMaxSchedulerMessage);
    }
  }
  if (!has_ready && !deleting) {
    if (auto t = ParseApiTime(Str(m, "creationTimestamp"))) p.not_ready_since = *t;
  }
  if (p.unschedulable && p.node_name.empty()) p.target_node = AffinityNode(Obj(j, "spec"));
  return p;
}

Result<EndpointSlice> DecodeEndpointSlice(const json& j) {
  auto meta = Metadata(j, "EndpointSlice");
  if (!meta) return Error{meta.error()};
  const json& m = **meta;
  EndpointSlice e;
  e.ns = Str(m, "namespace");
  e.name = Str(m, "name");
  e.service_name = Str(Obj(m, "labels"), names::kEndpointSliceServiceLabel);
  for (const json& ep : Arr(j, "endpoints")) {
    std::string node = Str(ep, "nodeName");
    if (node.empty()) continue;
    // API contract: a nil `ready` condition means ready.
    const json* ready = Get(Obj(ep, "conditions"), "ready");
    if (ready != nullptr && !(ready->is_boolean() && ready->get<bool>())) continue;
    e.ready_nodes.push_back(node);
  }
  std::sort(e.ready_nodes.begin(), e.ready_nodes.end());
  return e;
}

Result<ObservedDaemonSet> DecodeDaemonSet(const json& j) {
  auto meta = Metadata(j, "DaemonSet");
  if (!meta) return Error{meta.error()};
  const json& m = **meta;
  ObservedDaemonSet d;
  d.ns = Str(m, "namespace");
  d.name = Str(m, "name");
  d.uid = Str(m, "uid");
  d.resource_version = Str(m, "resourceVersion");
  d.generation = Int(m, "generation");
  const json& labels = Obj(m, "labels");
  d.service_ns = Str(labels, names::kServiceNamespaceLabel);
  d.service_name = Str(labels, names::kServiceNameLabel);
  d.service_uid = Str(labels, names::kServiceUidLabel);
  d.spec_hash = Str(Obj(m, "annotations"), names::kSpecHashAnnotation);
  const json& status = Obj(j, "status");
  d.observed_generation = Int(status, "observedGeneration");
  d.desired_scheduled = Int(status, "desiredNumberScheduled");
  d.current_scheduled = Int(status, "currentNumberScheduled");
  d.number_ready = Int(status, "numberReady");
  return d;
}

Result<PodCreateFailure> DecodePodCreateFailure(const json& j) {
  auto meta = Metadata(j, "Event");
  if (!meta) return Error{meta.error()};
  const json& involved = Obj(j, "involvedObject");
  if (Str(j, "reason") != "FailedCreate" || Str(involved, "kind") != "DaemonSet") {
    return Error{"Event " + Str(**meta, "name") + ": not a DaemonSet's FailedCreate"};
  }
  PodCreateFailure f;
  f.ns = Str(**meta, "namespace");
  f.name = Str(**meta, "name");
  f.daemonset_uid = Str(involved, "uid");
  f.message = Capped(Str(j, "message"), kMaxCreateFailureMessage);
  std::string seen = Str(j, "lastTimestamp");
  if (seen.empty()) seen = Str(j, "eventTime");
  if (auto t = ParseApiTime(seen)) f.last_seen = *t;
  return f;
}

Result<Lease> DecodeLease(const json& j) {
  auto meta = Metadata(j, "Lease");
  if (!meta) return Error{meta.error()};
  Lease l;
  l.resource_version = Str(**meta, "resourceVersion");
  const json& spec = Obj(j, "spec");
  l.holder = Str(spec, "holderIdentity");
  l.lease_duration_seconds = Int(spec, "leaseDurationSeconds");
  l.renew_time = Str(spec, "renewTime");
  l.transitions = Int(spec, "leaseTransitions");
  return l;
}

namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63: a qualified name's name part and a
// non-empty label value.
bool IsNamePart(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsQualifiedName(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return IsNamePart(s);
  return IsDnsSubdomain(s.substr(0, slash)) && IsNamePart(s.substr(slash + 1));
}

bool IsLabelValue(std::string_view s) {
  return s.empty() || IsNamePart(s);
}

Result<std::vector<Toleration>> ParseTolerations(std::string_view text) {
  if (text.size() > names::kMaxTolerationsAnnotation) {
    return Error{"longer than " + std::to_string(names::kMaxTolerationsAnnotation) + " bytes"};
  }
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{"not valid JSON"};
  if (!j.is_array()) return Error{"not a JSON list"};
  if (j.size() > kMaxTolerations) {
    return Error{std::to_string(j.size()) + " entries, more than " +
                 std::to_string(kMaxTolerations)};
  }
  std::vector<Toleration> out;
  size_t index = 0;
  for (const json& t : j) {
    std::string where = "entry " + std::to_string(index++);
    if (!t.is_object()) return Error{where + " is not an object"};
    for (const char* key : {"key", "operator", "value", "effect"}) {
      const json* v = Get(t, key);
      if (v != nullptr && !v->is_string()) return Error{where + ": " + key + " is not a string"};
    }
    Toleration tol;
    tol.key = Str(t, "key");
    if (!tol.key.empty() && !IsQualifiedName(tol.key)) {
      return Error{where + ": key \"" + Capped(tol.key, 100) + "\" is not a qualified name"};
    }
    tol.op = Str(t, "operator");
    if (tol.op.empty()) tol.op = "Equal";
    if (tol.op != "Equal" && tol.op != "Exists") {
      return Error{where + ": operator \"" + tol.op + "\" is not Equal or Exists"};
    }
    tol.value = Str(t, "value");
    if (!IsLabelValue(tol.value)) {
      return Error{where + ": value \"" + Capped(tol.value, 100) + "\" is not a label value"};
    }
    if (tol.op == "Exists" && !tol.value.empty()) {
      return Error{where + ": operator Exists takes no value"};
    }
    if (tol.key.empty() && tol.op != "Exists") {
      return Error{where + ": an empty key needs operator Exists"};
    }
    tol.effect = Str(t, "effect");
    if (!tol.effect.empty() && tol.effect != "NoSchedule" && tol.effect != "PreferNoSchedule" &&
        tol.effect != "NoExecute") {
      return Error{where + ": effect \"" + tol.effect + "\" is unknown"};
    }
    if (const json* s = Get(t, "tolerationSeconds"); s != nullptr && !s->is_null()) {
      if (!s->is_number_integer()) return Error{where + ": tolerationSeconds is not an integer"};
      if (tol.effect != "NoExecute") {
        return Error{where + ": tolerationSeconds needs effect NoExecute"};
      }
      tol.seconds = s->get<int64_t>();
    }
    out.push_back(std::move(tol));
  }
  return out;
}

int StatusCode(const json& j) {
  int64_t code = Int(j, "code");
  return (code > 0 && code < 1000) ? static_cast<int>(code) : 0;
}

}  // namespace akrobateo::api
