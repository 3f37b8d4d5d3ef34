// SPDX-License-Identifier: Apache-2.0
#include "operator/kube/rest_typed_client.h"

#include "operator/api/decode.h"
#include "operator/api/lease.h"

namespace akrobateo::kube {
namespace {

using nlohmann::json;

std::string DaemonSetPath(const std::string& ns, const std::string& name = "") {
  return "/apis/apps/v1/namespaces/" + ns + "/daemonsets" + (name.empty() ? "" : "/" + name);
}

ErrorKind KindOfReason(const std::string& reason) {
  if (reason == "NotFound") return ErrorKind::kNotFound;
  if (reason == "AlreadyExists") return ErrorKind::kAlreadyExists;
  if (reason == "Conflict") return ErrorKind::kConflict;
  if (reason == "Forbidden" || reason == "Unauthorized") return ErrorKind::kForbidden;
  if (reason == "Invalid" || reason == "BadRequest") return ErrorKind::kInvalid;
  if (reason == "Timeout" || reason == "ServerTimeout" || reason == "TooManyRequests" ||
      reason == "ServiceUnavailable" || reason == "InternalError") {
    return ErrorKind::kTransient;
  }
  return ErrorKind::kOther;
}

ErrorKind KindOfStatus(int status) {
  switch (status) {
    case 0:
    case 408:
    case 429:
      return ErrorKind::kTransient;
    case 404:
      return ErrorKind::kNotFound;
    case 409:
      return ErrorKind::kConflict;
    case 401:
    case 403:
      return ErrorKind::kForbidden;
    case 400:
    case 422:
      return ErrorKind::kInvalid;
    default:
      return status >= 500 ? ErrorKind::kTransient : ErrorKind::kOther;
  }
}

Status StatusOf(const Response& r) {
  if (r.ok()) return Ok();
  return ErrorOf(r);
}

}  // namespace

Error ErrorOf(const Response& r) {
  ErrorKind kind = KindOfStatus(r.status);
  if (r.status != 0) {
    json body = json::parse(r.body, nullptr, false);
    if (body.is_object() && body.contains("reason") && body["reason"].is_string()) {
      if (ErrorKind k = KindOfReason(body["reason"].get<std::string>()); k != ErrorKind::kOther) {
        kind = k;
      }
    }
  }
  return Error{r.Describe(), kind};
}

Result<api::ObservedDaemonSet> RestTypedClient::GetDaemonSet(const std::string& ns,
                                                             const std::string& name) {
  Response r = client_->Request("get", "GET", DaemonSetPath(ns, name));
  if (!r.ok()) return ErrorOf(r);
  return api::DecodeDaemonSet(json::parse(r.body, nullptr, false));
}

Status RestTypedClient::CreateDaemonSet(const std::string& ns, const api::DaemonSet& ds) {
  return StatusOf(
      client_->Request("create", "POST", DaemonSetPath(ns), api::EncodeDaemonSet(ds).dump()));
}

Status RestTypedClient::UpdateDaemonSet(const std::string& ns, const api::DaemonSet& ds,
                                        const std::string& resource_version) {
  return StatusOf(client_->Request("update", "PUT", DaemonSetPath(ns, ds.name),
                                   api::EncodeDaemonSet(ds, resource_version).dump()));
}

Status RestTypedClient::DeleteDaemonSet(const std::string& ns, const std::string& name) {
  return StatusOf(client_->Request("delete", "DELETE",
                                   DaemonSetPath(ns, name) + "?propagationPolicy=Background"));
}

Result<std::optional<api::Service>> RestTypedClient::PatchServiceStatus(
    const std::string& ns, const std::string& name, const api::LoadBalancerStatus& status,
    const std::string& resource_version) {
  const std::vector<std::string>& ingress = status.ips;
  json port_list = json::array();
  for (const api::IngressPort& p : status.ports) {
    json entry = {{"port", p.port}, {"protocol", p.protocol}};
    if (!p.error.empty()) entry["error"] = p.error;
    port_list.push_back(std::move(entry));
  }
  json list = json::array();
  for (const std::string& ip : ingress) {
    json entry = {{"ip", ip}};
    if (!status.ip_mode.empty()) entry["ipMode"] = status.ip_mode;
    if (!status.ports.empty()) entry["ports"] = port_list;
    list.push_back(std::move(entry));
  }
  json patch = {{"metadata", {{"resourceVersion", resource_version}}},
                {"status", {{"loadBalancer", {{"ingress", ingress.empty() ? json() : list}}}}}};
  return PatchService(ns, name + "/status", patch);
}

Result<std::optional<api::Service>> RestTypedClient::PatchServiceFinalizers(
    const std::string& ns, const std::string& name, const std::vector<std::string>& finalizers,
    const std::string& resource_version) {
  json patch = {{"metadata", {{"resourceVersion", resource_version}, {"finalizers", finalizers}}}};
  return PatchService(ns, name, patch);
}

Result<std::optional<api::Service>> RestTypedClient::PatchService(const std::string& ns,
                                                                  const std::string& path,
                                                                  const json& patch) {
  Response r = client_->Request("patch", "PATCH", "/api/v1/namespaces/" + ns + "/services/" + path,
                                patch.dump(), "application/merge-patch+json");
  if (!r.ok()) return ErrorOf(r);
  Result<api::Service> written = api::DecodeService(json::parse(r.body, nullptr, false));
  if (!written) return std::optional<api::Service>();
  return std::optional<api::Service>(std::move(written).value());
}

Status RestTypedClient::CreateEvent(const std::string& ns, const api::Event& event) {
  return StatusOf(client_->Request("create", "POST",
                                   "/apis/events.k8s.io/v1/namespaces/" + ns + "/events",
                                   api::EncodeEvent(event).dump()));
}

Status RestTypedClient::GetPriorityClass(const std::string& name) {
  return StatusOf(
      client_->Request("get", "GET", "/apis/scheduling.k8s.io/v1/priorityclasses/" + name));
}

// --- Leases ---

namespace {

std::string LeasePath(const std::string& ns, const std::string& name = "") {
  return "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases" +
         (name.empty() ? "" : "/" + name);
}

// Leader election's own requests: bounded by `deadline`, never fenced.
CallOptions LeaseCall(Clock::time_point deadline) {
  return CallOptions{deadline, /*unfenced=*/true};
}

}  // namespace

Result<api::Lease> RestTypedClient::GetLease(const std::string& ns, const std::string& name,
                                             Clock::time_point deadline) {
  Response r = client_->Request("get", "GET", LeasePath(ns, name), "", "application/json",
                                LeaseCall(deadline));
  if (!r.ok()) return ErrorOf(r);
  return api::DecodeLease(json::parse(r.body, nullptr, false));
}

Status RestTypedClient::CreateLease(const std::string& ns, const std::string& name,
                                    const api::Lease& lease, const std::string& acquire_time,
                                    Clock::time_point deadline) {
  api::Lease fresh = lease;
  fresh.resource_version.clear();
  return StatusOf(client_->Request("create", "POST", LeasePath(ns),
                                   api::EncodeLease(ns, name, fresh, acquire_time).dump(),
                                   "application/json", LeaseCall(deadline)));
}

Status RestTypedClient::UpdateLease(const std::string& ns, const std::string& name,
                                    const api::Lease& lease, const std::string& acquire_time,
                                    Clock::time_point deadline) {
  return StatusOf(client_->Request("update", "PUT", LeasePath(ns, name),
                                   api::EncodeLease(ns, name, lease, acquire_time).dump(),
                                   "application/json", LeaseCall(deadline)));
}

}  // namespace akrobateo::kube
