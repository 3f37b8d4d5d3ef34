// SPDX-License-Identifier: Apache-2.0
#include "operator/kube/watch.h"

#include <malloc.h>

#include <random>

#include "operator/api/decode.h"
#include "operator/base/log.h"
#include "operator/kube/backoff.h"

namespace akrobateo::kube {

using nlohmann::json;

// Small pages keep the transient JSON of a list small (memory target: docs/operator.md).
constexpr int kListPageSize = 100;

bool LineSplitter::Feed(std::string_view chunk, const std::function<void(std::string_view)>& line,
                        size_t max_line) {
  buf_.append(chunk);
  size_t start = 0;
  for (size_t nl = buf_.find('\n'); nl != std::string::npos; nl = buf_.find('\n', start)) {
    line(std::string_view(buf_).substr(start, nl - start));
    start = nl + 1;
  }
  buf_.erase(0, start);
  return buf_.size() <= max_line;
}

ListWatcher::ListWatcher(Client* client, metrics::Metrics* metrics, std::string resource,
                         std::string path, std::string selector, WatchHandlers handlers)
    : client_(client),
      metrics_(metrics),
      resource_(std::move(resource)),
      path_(std::move(path)),
      selector_(std::move(selector)),
      handlers_(std::move(handlers)) {}

ListWatcher::~ListWatcher() {
  Stop();
}

void ListWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ListWatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ListWatcher::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  client_->clock()->WaitFor(cv_, lock, d, [this] { return stop_.load(); });
}

void ListWatcher::Run() {
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(30));
  bool need_list = true;
  bool first_watch = true;
  while (!stop_.load() && !client_->shut_down()) {
    if (need_list) {
      if (Status listed = List(); !listed) {
        if (stop_.load()) continue;
        auto d = backoff.Next();
        LogWarn(
            "list failed",
            {{"resource", resource_}, Quoted("error", listed.error()), {"retry_in_ms", d.count()}});
        Sleep(d);
        continue;
      }
      need_list = false;
    }
    if (!first_watch) metrics_->WatchRestarted(resource_);
    first_watch = false;
    const Clock::time_point started = client_->clock()->Now();
    WatchEnd end = Watch();
    need_list = end != WatchEnd::kResume;
    if (end != WatchEnd::kFailed) {
      // A watch that ends at once (a misbehaving proxy, an immediate 410) must not spin.
      if (client_->clock()->Now() - started < std::chrono::seconds(1)) {
        Sleep(backoff.Next());
      } else {
        backoff.Reset();
      }
    } else if (!stop_.load() && !client_->shut_down()) {
      auto d = backoff.Next();
      LogWarn("watch failed",
              {{"resource", resource_}, {"relist", need_list}, {"retry_in_ms", d.count()}});
      Sleep(d);
    }
  }
  LogInfo("watch stopped", {{"resource", resource_}});
}

Status ListWatcher::List() {
  std::string cont;
  bool began = false;
  size_t count = 0;
  do {
    std::string path = path_ + "?limit=" + std::to_string(kListPageSize);
    if (!selector_.empty()) path += "&" + selector_;
    if (!cont.empty()) path += "&continue=" + QueryEscape(cont);
    Response r = client_->Request("list", "GET", path);
    if (!r.ok()) return Error{r.Describe()};
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("items") || !j["items"].is_array()) {
      return Error{r.request + ": response is not a list"};
    }
    try {
      if (!began) {
        handlers_.list_begin();
        began = true;
      }
      for (const json& item : j["items"]) {
        handlers_.list_item(item);
        ++count;
      }
      const json& meta = j.value("metadata", json::object());
      cont = meta.is_object() ? meta.value("continue", std::string()) : std::string();
      resource_version_ = meta.is_object() ? meta.value("resourceVersion", std::string()) : "";
    } catch (const std::exception& e) {
      return Error{r.request + ": " + e.what()};
    }
  } while (!cont.empty() && !stop_.load());
  if (stop_.load()) return Error{"stopped"};
  handlers_.list_done();
  // The pages' JSON is gone; hand the freed heap back instead of keeping it as a high-water mark.
  malloc_trim(0);
  LogInfo("listed",
          {{"resource", resource_}, {"count", count}, {"resourceVersion", resource_version_}});
  return Ok();
}

ListWatcher::WatchEnd ListWatcher::Watch() {
  // Spread the server-side timeouts so that watches do not all restart together.
  static thread_local std::mt19937 rng(std::random_device{}());
  int timeout = std::uniform_int_distribution<int>(300, 600)(rng);
  std::string path =
      path_ + "?watch=true&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeout) +
      "&resourceVersion=" + QueryEscape(resource_version_);
  if (!selector_.empty()) path += "&" + selector_;
  LogInfo("watch started", {{"resource", resource_}, {"resourceVersion", resource_version_}});
  LineSplitter splitter;
  bool gone = false;
  size_t events = 0;
  Response r = client_->Stream(path, timeout + 30, [&](std::string_view chunk) {
    bool ok = splitter.Feed(chunk, [&](std::string_view line) {
      if (line.empty() || gone) return;
      json ev = json::parse(line, nullptr, false);
      if (!ev.is_object()) return;
      try {
        std::string type = ev.value("type", std::string());
        const json& obj = ev.contains("object") ? ev["object"] : json();
        if (type == "ERROR") {
          int code = api::StatusCode(obj);
          LogInfo("watch error", {{"resource", resource_}, {"code", code}});
          gone = true;  // 410 Gone or anything else: re-list to be safe
          return;
        }
        if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object()) {
          std::string rv = obj["metadata"].value("resourceVersion", std::string());
          if (!rv.empty()) resource_version_ = rv;
        }
        if (type == "BOOKMARK") return;
        if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
          ++events;
          handlers_.event(type, obj);
        }
      } catch (const std::exception& e) {
        LogWarn("watch event skipped", {{"resource", resource_}, Quoted("error", e.what())});
      }
    });
    return ok && !gone && !stop_.load();
  });
  if (gone || r.status == 410) return WatchEnd::kRelist;  // expected: history compacted
  if (stop_.load()) return WatchEnd::kResume;
  if (r.status == 200) {
    LogDebug("watch ended", {{"resource", resource_}, {"events", events}});
    return WatchEnd::kResume;
  }
  LogWarn("watch", {{"resource", resource_}, Quoted("error", r.Describe())});
  return WatchEnd::kFailed;
}

}  // namespace akrobateo::kube
