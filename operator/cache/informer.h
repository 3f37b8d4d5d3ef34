// SPDX-License-Identifier: Apache-2.0
// Informer<T>: a ListWatcher feeding a Store<T> through a decoder, with handlers that see the
// old and the new trimmed value. Handlers only enqueue Service keys (no API calls).
#ifndef AKROBATEO_OPERATOR_CACHE_INFORMER_H_
#define AKROBATEO_OPERATOR_CACHE_INFORMER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "operator/base/log.h"
#include "operator/base/result.h"
#include "operator/cache/store.h"
#include "operator/kube/watch.h"

namespace akrobateo::cache {

template <class T>
class Informer {
 public:
  using Decode = Result<T> (*)(const nlohmann::json&);
  using KeyFn = std::string (*)(const T&);
  // `old` is null for an addition; `now` is null for a deletion.
  using Handler = std::function<void(const T* old, const T* now)>;

  // `index`: the store's secondary index (Store::ByIndex), if any.
  Informer(kube::Client* client, metrics::Metrics* metrics, std::string resource, std::string path,
           std::string selector, Decode decode, KeyFn key,
           typename Store<T>::IndexFn index = nullptr)
      : decode_(decode), key_(key), store_(index) {
    kube::WatchHandlers h;
    h.list_begin = [this] { pending_.clear(); };
    h.list_item = [this](const nlohmann::json& j) {
      if (auto v = Decoded(j)) pending_.emplace(key_(*v), std::move(*v));
    };
    h.list_done = [this] { ApplyList(); };
    h.event = [this](const std::string& type, const nlohmann::json& j) { ApplyEvent(type, j); };
    watcher_ = std::make_unique<kube::ListWatcher>(
        client, metrics, std::move(resource), std::move(path), std::move(selector), std::move(h));
  }

  void SetHandler(Handler h) { handler_ = std::move(h); }
  void Start() { watcher_->Start(); }
  void Stop() { watcher_->Stop(); }
  bool Synced() const { return synced_.load(); }
  const Store<T>& store() const { return store_; }

  // The store, writable for one purpose: the object a write of ours returned (the API
  // server's state right after it) replaces the cached copy at once (Store::ReplaceIf, only
  // while the store still holds the version the write was conditioned on), so that the next
  // reconcile does not write against the resourceVersion its own write just made stale (a
  // certain 409 Conflict). When the watch delivers that same version it compares equal and no
  // handler runs. Every other write is this informer's own.
  Store<T>* written_store() { return &store_; }

 private:
  std::optional<T> Decoded(const nlohmann::json& j) {
    Result<T> r = decode_(j);
    if (!r) {
      LogWarn("decode skipped", {{"resource", watcher_->resource()}, Quoted("error", r.error())});
      return std::nullopt;
    }
    return std::move(r).value();
  }

  void ApplyList() {
    std::unordered_map<std::string, T> fresh = std::move(pending_);
    pending_ = {};
    // Tell the handler about every change relative to what the store held. Only keys (and
    // the few old values) are kept aside, so a re-list does not double the cache in memory.
    std::vector<std::pair<std::string, std::optional<T>>> changed;
    for (const auto& [k, v] : fresh) {
      std::optional<T> old = store_.Get(k);
      if (!old || !(*old == v)) changed.emplace_back(k, std::move(old));
    }
    std::vector<T> gone = store_.Replace(std::move(fresh));
    synced_.store(true);
    if (!handler_) return;
    for (const auto& [key, old] : changed) {
      // Only this thread adds or removes items (an adopted write only replaces one), so the item is
      // still there.
      if (std::optional<T> now = store_.Get(key)) handler_(old ? &*old : nullptr, &*now);
    }
    for (const T& g : gone) handler_(&g, nullptr);
  }

  void ApplyEvent(const std::string& type, const nlohmann::json& j) {
    std::optional<T> v = Decoded(j);
    if (!v) return;
    std::string key = key_(*v);
    if (type == "DELETED") {
      std::optional<T> old = store_.Erase(key);
      if (handler_ && old) handler_(&*old, nullptr);
      return;
    }
    std::optional<T> old = store_.Upsert(key, *v);
    if (handler_ && (!old || !(*old == *v))) handler_(old ? &*old : nullptr, &*v);
  }

  Decode decode_;
  KeyFn key_;
  Handler handler_;
  Store<T> store_;
  std::unordered_map<std::string, T> pending_;
  std::atomic<bool> synced_{false};
  std::unique_ptr<kube::ListWatcher> watcher_;
};

}  // namespace akrobateo::cache

#endif  // AKROBATEO_OPERATOR_CACHE_INFORMER_H_
