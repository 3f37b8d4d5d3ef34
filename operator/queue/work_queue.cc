// SPDX-License-Identifier: Apache-2.0
#include "operator/queue/work_queue.h"

#include <algorithm>

#include "operator/metrics/metrics.h"

namespace akrobateo::queue {
namespace {

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

// Depth as client-go counts it: the keys waiting to be processed, including those added again
// while a worker holds them (queued at Done).
void WorkQueue::ReportDepthLocked() {
  if (metrics_ != nullptr) metrics_->SetWorkqueueDepth(shutdown_ ? 0 : int64_t(dirty_.size()));
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutdown_ || dirty_.count(key) != 0) return;
  dirty_.insert(key);
  added_at_.try_emplace(key, clock_->Now());
  if (metrics_ != nullptr) metrics_->WorkqueueAdded();
  ReportDepthLocked();
  if (processing_.count(key) != 0) return;  // re-queued by Done
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  if (shutdown_) return;
  if (delay.count() <= 0) {
    AddLocked(key);
    return;
  }
  WaitLocked(clock_->After(delay), key);
}

void WorkQueue::WaitLocked(Clock::time_point when, const std::string& key) {
  if (auto it = delayed_keys_.find(key); it != delayed_keys_.end()) {
    if (it->second->first <= when) return;  // already waiting, and due earlier
    delayed_.erase(it->second);
    delayed_keys_.erase(it);
  }
  delayed_keys_[key] = delayed_.emplace(when, key);
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mu_);
    int n = failures_[key]++;
    if (metrics_ != nullptr && !shutdown_) metrics_->WorkqueueRetried();
    delay = std::min<std::chrono::milliseconds>(max_, base_ * (int64_t{1} << std::min(n, 20)));
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_keys_.erase(key);
    delayed_.erase(delayed_.begin());
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  while (true) {
    PromoteDueLocked(clock_->Now());
    if (!queue_.empty()) break;
    if (shutdown_) return std::nullopt;
    // A copy: another worker may erase that entry while this one waits. The wait ends at that
    // time, or sooner when a key is queued or an earlier one starts waiting.
    const Clock::time_point due =
        delayed_.empty() ? Clock::time_point::max() : delayed_.begin()->first;
    clock_->WaitUntil(cv_, lock, due, [&] {
      return shutdown_ || !queue_.empty() || (!delayed_.empty() && delayed_.begin()->first < due);
    });
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  const Clock::time_point now = clock_->Now();
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    if (metrics_ != nullptr) metrics_->WorkqueueQueued(Seconds(now - it->second));
    added_at_.erase(it);
  }
  started_at_[key] = now;
  ReportDepthLocked();
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (auto it = started_at_.find(key); it != started_at_.end()) {
    if (metrics_ != nullptr) metrics_->WorkqueueWorked(Seconds(clock_->Now() - it->second));
    started_at_.erase(it);
  }
  // After ShutDown no key is handed out again, even one re-added while it was processed.
  if (!shutdown_ && dirty_.count(key) != 0) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutdown_ = true;
  queue_.clear();
  delayed_.clear();
  delayed_keys_.clear();
  added_at_.clear();
  ReportDepthLocked();
  cv_.notify_all();
}

size_t WorkQueue::Len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace akrobateo::queue
