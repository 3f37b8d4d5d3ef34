// SPDX-License-Identifier: Apache-2.0
// An informer-like store: trimmed objects keyed by "namespace/name" (or "name"), safe for one
// writer (the watch thread) and many readers (the reconcile workers). Readers copy out what
// they need under a shared lock; nothing holds references across calls. Optionally one
// secondary index (an IndexFn, e.g. the Service a pod belongs to) kept up to date on every
// write, so that ByIndex reads one Service's items without scanning the rest.
#ifndef AKROBATEO_OPERATOR_CACHE_STORE_H_
#define AKROBATEO_OPERATOR_CACHE_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "operator/cache/index.h"

namespace akrobateo::cache {

template <class T>
class Store {
 public:
  // The value an item is indexed by; an empty value leaves the item out of the index.
  using IndexFn = std::string (*)(const T&);

  Store() = default;
  explicit Store(IndexFn index) : index_fn_(index) {}

  std::optional<T> Get(const std::string& key) const {
    std::shared_lock lock(mu_);
    auto it = items_.find(key);
    if (it == items_.end()) return std::nullopt;
    return it->second;
  }

  // Calls `fn(key, item)` for every item under the shared lock; `fn` must not call back.
  void ForEach(const std::function<void(const std::string&, const T&)>& fn) const {
    std::shared_lock lock(mu_);
    for (const auto& [k, v] : items_) fn(k, v);
  }

  template <class Pred>
  std::vector<T> Select(Pred pred) const {
    std::vector<T> out;
    std::shared_lock lock(mu_);
    for (const auto& [k, v] : items_) {
      if (pred(v)) out.push_back(v);
    }
    return out;
  }

  // Copies of the items whose index value is `value` (none without an IndexFn).
  std::vector<T> ByIndex(const std::string& value) const {
    std::vector<T> out;
    std::shared_lock lock(mu_);
    for (const std::string& k : index_.Keys(value)) {
      if (auto it = items_.find(k); it != items_.end()) out.push_back(it->second);
    }
    return out;
  }

  // Returns the previous value, if any.
  std::optional<T> Upsert(const std::string& key, T item) {
    std::unique_lock lock(mu_);
    ++version_;
    std::string value = Indexed(item);
    // try_emplace leaves `item` untouched when the key exists.
    auto [it, inserted] = items_.try_emplace(key, std::move(item));
    if (inserted) {
      index_.Add(value, key);
      return std::nullopt;
    }
    ReindexLocked(key, it->second, value);
    std::optional<T> old = std::move(it->second);
    it->second = std::move(item);
    return old;
  }

  // Replaces the item at `key` only while `current(item)` holds for the one stored (a
  // compare-and-swap); false, and nothing changed, when it does not or the key is absent.
  bool ReplaceIf(const std::string& key, const std::function<bool(const T&)>& current, T item) {
    std::unique_lock lock(mu_);
    auto it = items_.find(key);
    if (it == items_.end() || !current(it->second)) return false;
    ++version_;
    ReindexLocked(key, it->second, Indexed(item));
    it->second = std::move(item);
    return true;
  }

  std::optional<T> Erase(const std::string& key) {
    std::unique_lock lock(mu_);
    ++version_;
    auto it = items_.find(key);
    if (it == items_.end()) return std::nullopt;
    index_.Remove(Indexed(it->second), key);
    std::optional<T> old = std::move(it->second);
    items_.erase(it);
    return old;
  }

  // Replaces the whole content (after a re-list); returns the items that disappeared.
  std::vector<T> Replace(std::unordered_map<std::string, T> items) {
    std::unique_lock lock(mu_);
    ++version_;
    std::vector<T> gone;
    for (auto& [k, v] : items_) {
      if (items.count(k) == 0) gone.push_back(std::move(v));
    }
    items_ = std::move(items);
    index_.Clear();
    for (const auto& [k, v] : items_) index_.Add(Indexed(v), k);
    return gone;
  }

  size_t Size() const {
    std::shared_lock lock(mu_);
    return items_.size();
  }
  // How many distinct index values are held (for tests: none are left behind).
  size_t IndexSize() const {
    std::shared_lock lock(mu_);
    return index_.Size();
  }
  // Changes with every write; lets readers cache derived data.
  uint64_t Version() const {
    std::shared_lock lock(mu_);
    return version_;
  }

 private:
  std::string Indexed(const T& item) const { return index_fn_ ? index_fn_(item) : std::string(); }
  // `key` moves from `before`'s index value to `value`.
  void ReindexLocked(const std::string& key, const T& before, const std::string& value) {
    if (std::string was = Indexed(before); was != value) {
      index_.Remove(was, key);
      index_.Add(value, key);
    }
  }

  IndexFn index_fn_ = nullptr;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, T> items_;
  Index index_;
  uint64_t version_ = 0;
};

}  // namespace akrobateo::cache

#endif  // AKROBATEO_OPERATOR_CACHE_STORE_H_
