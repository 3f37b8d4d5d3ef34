// SPDX-License-Identifier: Apache-2.0
// The "handled" filter: which Services the operator acts on (README, "Use"; docs/operator.md,
// "Reconcile").
#ifndef AKROBATEO_OPERATOR_RECONCILE_HANDLED_H_
#define AKROBATEO_OPERATOR_RECONCILE_HANDLED_H_

#include <string>

#include "operator/api/types.h"

namespace akrobateo::reconcile {

struct ClassOptions {
  std::string load_balancer_class;  // --load-balancer-class
  bool default_class = true;        // --default-class
};

inline bool IsHandled(const api::Service& svc, const ClassOptions& opts) {
  if (svc.type != "LoadBalancer") return false;
  if (!svc.load_balancer_class) return opts.default_class;
  return *svc.load_balancer_class == opts.load_balancer_class;
}

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_HANDLED_H_
