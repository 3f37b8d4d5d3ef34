// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/conflict.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

namespace akrobateo::reconcile {
namespace {

std::string Key(const PortClaim& c) {
  return c.ns + "/" + c.name;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Older first; Services without a timestamp (should not happen) last. Compares in place: the
// table is recomputed while Services are being created, so no strings are copied here.
bool Older(const PortClaim* a, const PortClaim* b) {
  if (a->creation_timestamp.empty() != b->creation_timestamp.empty()) {
    return b->creation_timestamp.empty();
  }
  if (int c = a->creation_timestamp.compare(b->creation_timestamp); c != 0) return c < 0;
  if (int c = a->ns.compare(b->ns); c != 0) return c < 0;
  return a->name < b->name;
}

}  // namespace

PortClaim ClaimOf(const api::Service& svc, const PortFilter& serves) {
  PortClaim c{svc.ns, svc.name, svc.creation_timestamp, svc.lb_pool, {}};
  c.ports.reserve(svc.ports.size());
  for (const api::ServicePort& p : svc.ports) {
    if (!serves || serves(p)) c.ports.push_back({p.protocol, p.port});
  }
  return c;
}

std::map<std::string, PortConflict> FindPortConflicts(
    const std::vector<const PortClaim*>& handled) {
  std::vector<const PortClaim*> order(handled);
  std::sort(order.begin(), order.end(), Older);
  // (protocol, port) -> the Services that hold it, older first.
  std::map<std::pair<std::string, int32_t>, std::vector<const PortClaim*>> held;
  std::map<std::string, PortConflict> blocked;
  for (const PortClaim* s : order) {
    std::optional<PortConflict> conflict;
    for (const PortClaim::Port& p : s->ports) {
      auto it = held.find({Upper(p.protocol), p.port});
      if (it == held.end()) continue;
      for (const PortClaim* h : it->second) {
        if (h->lb_pool.empty() || s->lb_pool.empty() || h->lb_pool == s->lb_pool) {
          conflict = PortConflict{Key(*h), p.protocol, p.port};
          break;
        }
      }
      if (conflict) break;
    }
    if (conflict) {
      blocked[Key(*s)] = *conflict;
      continue;
    }
    for (const PortClaim::Port& p : s->ports) {
      held[{Upper(p.protocol), p.port}].push_back(s);
    }
  }
  return blocked;
}

std::map<std::string, PortConflict> FindPortConflicts(
    const std::vector<const api::Service*>& handled) {
  std::vector<PortClaim> claims;
  claims.reserve(handled.size());
  for (const api::Service* s : handled) claims.push_back(ClaimOf(*s));
  std::vector<const PortClaim*> ptrs;
  ptrs.reserve(claims.size());
  for (const PortClaim& c : claims) ptrs.push_back(&c);
  return FindPortConflicts(ptrs);
}

void PortClaims::Count(const PortClaim& claim, int delta) {
  for (const PortClaim::Port& p : claim.ports) {
    auto it = users_.try_emplace({Upper(p.protocol), p.port}, 0).first;
    bool was_shared = it->second > 1;
    it->second += delta;
    bool is_shared = it->second > 1;
    if (was_shared != is_shared) shared_ports_ += is_shared ? 1 : -1;
    if (it->second <= 0) users_.erase(it);
  }
}

void PortClaims::Set(const std::string& key, PortClaim claim) {
  auto [it, inserted] = claims_.try_emplace(key);
  if (!inserted) Count(it->second, -1);
  it->second = std::move(claim);
  Count(it->second, +1);
}

bool ClaimMatches(const PortClaim& claim, const api::Service& svc, const PortFilter& serves) {
  if (claim.ns != svc.ns || claim.name != svc.name ||
      claim.creation_timestamp != svc.creation_timestamp || claim.lb_pool != svc.lb_pool) {
    return false;
  }
  size_t i = 0;
  for (const api::ServicePort& p : svc.ports) {
    if (serves && !serves(p)) continue;
    if (i == claim.ports.size() || claim.ports[i].protocol != p.protocol ||
        claim.ports[i].port != p.port) {
      return false;
    }
    ++i;
  }
  return i == claim.ports.size();
}

bool PortClaims::Sync(const std::string& key, const api::Service* handled,
                      const PortFilter& serves) {
  auto it = claims_.find(key);
  if (handled == nullptr) {
    if (it == claims_.end()) return false;
    Erase(key);
    return true;
  }
  if (it != claims_.end() && ClaimMatches(it->second, *handled, serves)) return false;
  Set(key, ClaimOf(*handled, serves));
  return true;
}

std::vector<std::string> PortClaims::Keys() const {
  std::vector<std::string> out;
  out.reserve(claims_.size());
  for (const auto& [k, c] : claims_) out.push_back(k);
  return out;
}

void PortClaims::Erase(const std::string& key) {
  auto it = claims_.find(key);
  if (it == claims_.end()) return;
  Count(it->second, -1);
  claims_.erase(it);
}

std::map<std::string, PortConflict> PortClaims::Conflicts() const {
  if (shared_ports_ == 0) return {};
  std::vector<const PortClaim*> shared;
  for (const auto& [k, c] : claims_) {
    for (const PortClaim::Port& p : c.ports) {
      auto it = users_.find({Upper(p.protocol), p.port});
      if (it != users_.end() && it->second > 1) {
        shared.push_back(&c);
        break;
      }
    }
  }
  return FindPortConflicts(shared);
}

}  // namespace akrobateo::reconcile
