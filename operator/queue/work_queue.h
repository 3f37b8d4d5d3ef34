// SPDX-License-Identifier: Apache-2.0
// The work queue of Service keys ("namespace/name"), with client-go's guarantees: a key
// waiting is queued once however often it is added; a key being processed is never handed
// to a second worker (an Add during processing re-queues it after Done); failed keys come
// back after a per-key exponential backoff; ShutDown lets in-flight work finish. AddAfter keeps
// one waiting entry per key, the earliest, as client-go's delaying queue does. Time is the
// injected Clock's (base/clock.h).
// With SetMetrics, it reports client-go's workqueue metrics (depth, adds, retries, queue and
// work duration) to the operator's registry.
#ifndef AKROBATEO_OPERATOR_QUEUE_WORK_QUEUE_H_
#define AKROBATEO_OPERATOR_QUEUE_WORK_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "operator/base/clock.h"

namespace akrobateo::metrics {
class Metrics;
}

namespace akrobateo::queue {

class WorkQueue {
 public:
  explicit WorkQueue(Clock* clock = Clock::Real(),
                     std::chrono::milliseconds base_delay = std::chrono::milliseconds(50),
                     std::chrono::milliseconds max_delay = std::chrono::seconds(300))
      : clock_(clock), base_(base_delay), max_(max_delay) {}

  void Add(const std::string& key);
  // Adds `key` after its backoff (doubling per failure since the last Forget).
  void AddRateLimited(const std::string& key);
  // Adds `key` once `delay` has passed. A key already waiting keeps the earlier of its two
  // times.
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  void Forget(const std::string& key);
  int Failures(const std::string& key) const;

  // Blocks until a key is ready or the queue is shut down (then nullopt).
  std::optional<std::string> Get();
  void Done(const std::string& key);

  void ShutDown();
  size_t Len() const;

  // Where the queue reports its metrics (null: nowhere); set before the queue is used.
  void SetMetrics(metrics::Metrics* m) { metrics_ = m; }

 private:
  void AddLocked(const std::string& key);
  void PromoteDueLocked(Clock::time_point now);
  void WaitLocked(Clock::time_point when, const std::string& key);
  void ReportDepthLocked();

  Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  // Keys waiting for their time (AddAfter), in time order, and each one's entry there.
  std::multimap<Clock::time_point, std::string> delayed_;
  std::unordered_map<std::string, std::multimap<Clock::time_point, std::string>::iterator>
      delayed_keys_;
  std::unordered_map<std::string, int> failures_;
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  bool shutdown_ = false;
  metrics::Metrics* metrics_ = nullptr;
  std::unordered_map<std::string, Clock::time_point> added_at_;    // dirty keys: since when
  std::unordered_map<std::string, Clock::time_point> started_at_;  // processing keys: since when
};

}  // namespace akrobateo::queue

#endif  // AKROBATEO_OPERATOR_QUEUE_WORK_QUEUE_H_
