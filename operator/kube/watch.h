// SPDX-License-Identifier: Apache-2.0
// List + watch of one resource, like client-go's reflector: a paged list, then a watch from
// its resourceVersion with bookmarks and a server timeout; the watch resumes from the last
// seen resourceVersion, a 410 Gone (or any other failure) re-lists, errors back off with
// capped exponential jitter. Runs on its own thread until Stop().
#ifndef AKROBATEO_OPERATOR_KUBE_WATCH_H_
#define AKROBATEO_OPERATOR_KUBE_WATCH_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "operator/base/result.h"
#include "operator/kube/client.h"
#include "operator/metrics/metrics.h"

namespace akrobateo::kube {

struct WatchHandlers {
  // A full list: called with every object, then `list_done` (the store replaces its content).
  std::function<void()> list_begin;
  std::function<void(const nlohmann::json&)> list_item;
  std::function<void()> list_done;
  // A watch event: "ADDED", "MODIFIED" or "DELETED" with its object.
  std::function<void(const std::string&, const nlohmann::json&)> event;
};

class ListWatcher {
 public:
  // `resource`: name for logs and metrics (e.g. "services"). `path`: the collection path
  // (e.g. "/api/v1/services"). `selector`: the query parameters that narrow the collection,
  // escaped ("labelSelector=..." and/or "fieldSelector=...", joined by '&'), or empty.
  ListWatcher(Client* client, metrics::Metrics* metrics, std::string resource, std::string path,
              std::string selector, WatchHandlers handlers);
  ~ListWatcher();

  void Start();
  void Stop();  // returns once the thread has ended

  const std::string& resource() const { return resource_; }

 private:
  // How a watch stream ended.
  enum class WatchEnd {
    kResume,  // timed out or stopped: watch again from the last resourceVersion
    kRelist,  // an ERROR event or 410 Gone: list again
    kFailed,  // the request failed: back off, then list again
  };
  void Run();
  Status List();
  WatchEnd Watch();
  void Sleep(std::chrono::milliseconds d);

  Client* client_;
  metrics::Metrics* metrics_;
  std::string resource_;
  std::string path_;
  std::string selector_;
  WatchHandlers handlers_;
  std::string resource_version_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

// Splits a watch stream into newline-delimited JSON events. Exposed for tests and the fuzzer.
class LineSplitter {
 public:
  // Appends `chunk` and calls `line` for every complete line; returns false when a line
  // exceeds `max_line` bytes (the stream is then broken).
  bool Feed(std::string_view chunk, const std::function<void(std::string_view)>& line,
            size_t max_line = 64u << 20);

 private:
  std::string buf_;
};

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_WATCH_H_
