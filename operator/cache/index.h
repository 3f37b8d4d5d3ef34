// SPDX-License-Identifier: Apache-2.0
// A secondary index of a Store: for each index value (e.g. the UID of the Service a balancer
// pod belongs to), the keys of the items that carry it. Lets a reconcile read the few items of
// one Service instead of scanning the whole cache. Not synchronised: the Store guards it.
#ifndef AKROBATEO_OPERATOR_CACHE_INDEX_H_
#define AKROBATEO_OPERATOR_CACHE_INDEX_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace akrobateo::cache {

class Index {
 public:
  // Empty values are not indexed.
  void Add(const std::string& value, const std::string& key) {
    if (value.empty()) return;
    std::vector<std::string>& keys = keys_[value];
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }

  void Remove(const std::string& value, const std::string& key) {
    auto it = keys_.find(value);
    if (it == keys_.end()) return;
    std::vector<std::string>& keys = it->second;
    keys.erase(std::remove(keys.begin(), keys.end(), key), keys.end());
    // A value with no key left goes: the index never outgrows the store.
    if (keys.empty()) keys_.erase(it);
  }

  // The keys indexed under `value`, in no particular order; valid until the next write.
  const std::vector<std::string>& Keys(const std::string& value) const {
    static const std::vector<std::string> kNone;
    auto it = keys_.find(value);
    return it == keys_.end() ? kNone : it->second;
  }

  void Clear() { keys_.clear(); }
  // How many distinct values are indexed.
  size_t Size() const { return keys_.size(); }

 private:
  std::unordered_map<std::string, std::vector<std::string>> keys_;
};

}  // namespace akrobateo::cache

#endif  // AKROBATEO_OPERATOR_CACHE_INDEX_H_
