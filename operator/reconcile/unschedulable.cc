// SPDX-License-Identifier: Apache-2.0
#include "operator/reconcile/unschedulable.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace akrobateo::reconcile {
namespace {

constexpr size_t kMaxNamedNodes = 5;

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::optional<std::string> UnschedulableWarning(const std::vector<api::Pod>& pods) {
  std::vector<const api::Pod*> stuck;
  size_t ready = 0;
  for (const api::Pod& p : pods) {
    if (p.ready) ++ready;
    if (p.unschedulable && !p.ready) stuck.push_back(&p);
  }
  if (stuck.empty()) return std::nullopt;
  // The quoted message must not depend on the cache's order, or every reconcile would look
  // like a change.
  std::sort(stuck.begin(), stuck.end(), [](const api::Pod* a, const api::Pod* b) {
    return std::tie(a->target_node, a->name) < std::tie(b->target_node, b->name);
  });
  std::set<std::string> nodes;
  for (const api::Pod* p : stuck) {
    if (!p->target_node.empty()) nodes.insert(p->target_node);
  }
  std::string where;
  size_t named = 0;
  for (const std::string& n : nodes) {
    if (named == kMaxNamedNodes) {
      where += " and " + std::to_string(nodes.size() - named) + " more";
      break;
    }
    where += (named == 0 ? "" : ", ") + n;
    ++named;
  }
  if (!where.empty()) where = (nodes.size() == 1 ? " on node " : " on nodes ") + where;
  std::string pending = std::to_string(stuck.size()) + " of " + Plural(pods.size(), "pod", "pods") +
                        (stuck.size() == 1 ? " is" : " are") + " Pending, cannot be scheduled" +
                        where;
  std::string message = stuck.front()->scheduler_message;
  if (message.empty()) message = "(the scheduler gave no message)";
  if (ready == 0) return "no balancer pod is ready: " + pending + ": " + message;
  return std::to_string(ready) + " of " + Plural(pods.size(), "balancer pod", "balancer pods") +
         (ready == 1 ? " is" : " are") + " ready; " + pending +
         ", so the Service does not answer there: " + message;
}

}  // namespace akrobateo::reconcile
