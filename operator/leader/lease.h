// SPDX-License-Identifier: Apache-2.0
// Leader election on a coordination.k8s.io/v1 Lease (verbs get, create, update, through the
// typed client's Leases), like
// client-go's leaderelection: acquire when the lease is free, ours, or has not been renewed
// for its duration as observed on our own clock; renew every retry period; leadership ends at
// the renew deadline: `renew_deadline` after the start of the last attempt that succeeded.
//
// Leadership is the client's write fence (kube/write_fence.h): every write the process
// makes (other than these Lease requests) is refused from the renew deadline on, whatever the
// elector's thread is doing, and writes still in flight then are abandoned. Every acquire or
// renew request is itself bounded by that deadline, so a stalled API connection cannot keep
// Hold() from noticing the loss: it returns at the deadline. Another instance takes over only
// after `lease_duration` without a change, and lease_duration > renew_deadline, so the two
// never write at the same time (the margin covers clock rate differences and request time).
#ifndef AKROBATEO_OPERATOR_LEADER_LEASE_H_
#define AKROBATEO_OPERATOR_LEADER_LEASE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

#include "operator/base/clock.h"
#include "operator/base/result.h"
#include "operator/kube/typed_client.h"
#include "operator/kube/write_fence.h"

namespace akrobateo::leader {

struct LeaseOptions {
  std::string ns;
  std::string name;
  std::string identity;
  std::chrono::milliseconds lease_duration{15000};  // whole seconds (leaseDurationSeconds)
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

// Ok when lease_duration (whole seconds) > renew_deadline > retry_period > 0, else what is wrong.
Status CheckTimings(const LeaseOptions& o);

// "15s", "500ms", "1m", "1.5s" or a bare number of seconds.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

class LeaderElector {
 public:
  // Reads and writes the Lease through `api`, opens and closes `fence` (the one of the client
  // the process writes with); time is the fence's clock.
  LeaderElector(kube::TypedClient* api, kube::WriteFence* fence, LeaseOptions opts)
      : api_(api), fence_(fence), clock_(fence->clock()), opts_(std::move(opts)) {}

  // Blocks until leadership is acquired (true) or Stop() was called (false). On success the
  // client's writes are allowed until the renew deadline.
  bool Acquire();
  // Blocks renewing; returns when leadership is lost (false: the renew deadline passed without
  // a successful renewal, or another instance holds the Lease) or Stop() was called (true).
  // When it returns false, the client's writes are already refused.
  bool Hold();
  // Wakes Acquire/Hold.
  void Stop();
  // Gives the lease up so that another instance takes over at once (only while still the
  // leader; bounded by the renew deadline). Writes are refused afterwards.
  void Release();

  // True while this instance holds the lease (before its renew deadline).
  bool Leading() const { return fence_->Allowed(); }

 private:
  enum class Outcome { kLeader, kHeldByOther, kError };
  // One get + create/update, every request abandoned at `deadline`.
  Outcome TryAcquireOrRenew(Clock::time_point deadline, bool renewing);
  void Sleep(Clock::duration d);
  void Lost(const char* why);

  kube::TypedClient* api_;
  kube::WriteFence* fence_;
  Clock* clock_;
  LeaseOptions opts_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  // What we last saw of someone else's lease, and when (our clock).
  std::string observed_holder_;
  std::string observed_renew_;
  Clock::time_point observed_at_{};
  int64_t transitions_ = 0;
  std::string acquire_time_;
};

}  // namespace akrobateo::leader

#endif  // AKROBATEO_OPERATOR_LEADER_LEASE_H_
