// An informer-like store: trimmed objects keyed by "namespace/name" (or "name"), safe for one
// writer (the watch thread) and many readers (the reconcile workers). Readers copy out what
// they need under a shared lock; nothing holds references across calls.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace akrobateo::cache {

template <class T>
class Store {
 public:
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

  // Returns the previous value, if any.
  std::optional<T> Upsert(const std::string& key, T item) {
    std::unique_lock lock(mu_);
    ++version_;
    // try_emplace leaves `item` untouched when the key exists.
    auto [it, inserted] = items_.try_emplace(key, std::move(item));
    if (inserted) return std::nullopt;
    std::optional<T> old = std::move(it->second);
    it->second = std::move(item);
    return old;
  }

  std::optional<T> Erase(const std::string& key) {
    std::unique_lock lock(mu_);
    ++version_;
    auto it = items_.find(key);
    if (it == items_.end()) return std::nullopt;
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
    return gone;
  }

  size_t Size() const {
    std::shared_lock lock(mu_);
    return items_.size();
  }
  // Changes with every write; lets readers cache derived data.
  uint64_t Version() const {
    std::shared_lock lock(mu_);
    return version_;
  }

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, T> items_;
  uint64_t version_ = 0;
};

}  // namespace akrobateo::cache
