// SPDX-License-Identifier: Apache-2.0
// Host-port conflicts between handled Services. Two balancer DaemonSets that want the same
// protocol/port on nodes that can overlap would leave pods Pending; instead the older Service
// (creationTimestamp, then namespace/name) keeps the port and the newer one is blocked: it
// gets a PortConflict Warning naming the holder and no DaemonSet until the conflict clears.
// Node selections overlap unless both Services name different akrobateo.dev/lbpool pools.
#ifndef AKROBATEO_OPERATOR_RECONCILE_CONFLICT_H_
#define AKROBATEO_OPERATOR_RECONCILE_CONFLICT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

struct PortConflict {
  std::string holder;    // "namespace/name" of the Service that keeps the port
  std::string protocol;  // as in the Service ("TCP", ...)
  int32_t port = 0;
  bool operator==(const PortConflict&) const = default;
};

// What the conflict check reads of one handled Service: a small copy, so that the reconciler
// can keep one per Service and recompute the table without copying whole Services.
struct PortClaim {
  struct Port {
    std::string protocol;  // as in the Service
    int32_t port = 0;
    bool operator==(const Port&) const = default;
  };
  std::string ns;
  std::string name;
  std::string creation_timestamp;
  std::string lb_pool;
  std::vector<Port> ports;
  bool operator==(const PortClaim&) const = default;
};

// Which ports of a Service it claims: those it will serve (port_policy.h). Empty: all.
using PortFilter = std::function<bool(const api::ServicePort&)>;

PortClaim ClaimOf(const api::Service& svc, const PortFilter& serves = {});
// ClaimOf(svc, serves) == claim, without building the claim.
bool ClaimMatches(const PortClaim& claim, const api::Service& svc, const PortFilter& serves = {});

// `handled`: every handled Service. Returns the blocked ones by "namespace/name".
std::map<std::string, PortConflict> FindPortConflicts(const std::vector<const PortClaim*>& handled);
std::map<std::string, PortConflict> FindPortConflicts(
    const std::vector<const api::Service*>& handled);

// The claims of every handled Service, kept up to date one Service change at a time, and how
// many claims name each protocol/port. A Service whose ports nobody else names can neither be
// blocked nor block another, so Conflicts() runs FindPortConflicts over the Services that share
// a port only (usually none), not over all of them; the result is the same.
class PortClaims {
 public:
  // `key`: "namespace/name".
  void Set(const std::string& key, PortClaim claim);
  void Erase(const std::string& key);
  // Brings the claim of `key` in line with `handled` (null: the Service is gone, not handled
  // or cannot be served, so it claims nothing), claiming the ports `serves` keeps. True when
  // that changed the claims.
  bool Sync(const std::string& key, const api::Service* handled, const PortFilter& serves = {});
  std::vector<std::string> Keys() const;
  std::map<std::string, PortConflict> Conflicts() const;
  size_t Size() const { return claims_.size(); }

 private:
  void Count(const PortClaim& claim, int delta);

  std::map<std::string, PortClaim> claims_;
  std::map<std::pair<std::string, int32_t>, int> users_;  // (PROTOCOL, port) -> claims naming it
  int shared_ports_ = 0;                                  // entries of users_ above 1
};

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_CONFLICT_H_
