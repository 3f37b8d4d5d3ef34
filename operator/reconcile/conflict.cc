#include "operator/reconcile/conflict.h"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <utility>

namespace akrobateo::reconcile {
namespace {

std::string Key(const api::Service& s) {
  return s.ns + "/" + s.name;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::map<std::string, PortConflict> FindPortConflicts(
    const std::vector<const api::Service*>& handled) {
  std::vector<const api::Service*> order(handled);
  // Services without a timestamp (should not happen) sort last.
  std::sort(order.begin(), order.end(), [](const api::Service* a, const api::Service* b) {
    return std::make_tuple(a->creation_timestamp.empty(), a->creation_timestamp, a->ns, a->name) <
           std::make_tuple(b->creation_timestamp.empty(), b->creation_timestamp, b->ns, b->name);
  });
  struct Holder {
    std::string pool;
    const api::Service* svc;
  };
  std::map<std::pair<std::string, int32_t>, std::vector<Holder>> held;
  std::map<std::string, PortConflict> blocked;
  for (const api::Service* s : order) {
    std::optional<PortConflict> conflict;
    for (const api::ServicePort& p : s->ports) {
      auto it = held.find({Upper(p.protocol), p.port});
      if (it == held.end()) continue;
      for (const Holder& h : it->second) {
        if (h.pool.empty() || s->lb_pool.empty() || h.pool == s->lb_pool) {
          conflict = PortConflict{Key(*h.svc), p.protocol, p.port};
          break;
        }
      }
      if (conflict) break;
    }
    if (conflict) {
      blocked[Key(*s)] = *conflict;
      continue;
    }
    for (const api::ServicePort& p : s->ports) {
      held[{Upper(p.protocol), p.port}].push_back({s->lb_pool, s});
    }
  }
  return blocked;
}

}  // namespace akrobateo::reconcile
