// SPDX-License-Identifier: Apache-2.0
// WarningMemory: the last Warning note per Service and slot, so that a condition that lasts
// (a port conflict, Pending pods) gives one Warning per change rather than one per reconcile.
// Shared by the workers, hence the lock.
#ifndef AKROBATEO_OPERATOR_RECONCILE_WARNINGS_H_
#define AKROBATEO_OPERATOR_RECONCILE_WARNINGS_H_

#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace akrobateo::reconcile {

class WarningMemory {
 public:
  // True when `note` differs from the slot's last one (it is remembered now): emit it.
  bool Remember(const std::string& key, const std::string& slot, const std::string& note) {
    std::lock_guard lock(mu_);
    std::string& last = last_[{key, slot}];
    if (last == note) return false;
    last = note;
    return true;
  }
  void Clear(const std::string& key, const std::string& slot) {
    std::lock_guard lock(mu_);
    last_.erase({key, slot});
  }
  // Every slot of the Service (it is gone).
  void Forget(const std::string& key) {
    std::lock_guard lock(mu_);
    for (auto it = last_.lower_bound({key, ""}); it != last_.end() && it->first.first == key;) {
      it = last_.erase(it);
    }
  }

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::string> last_;  // (key, slot) -> note
};

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_WARNINGS_H_
