// Leader election on a coordination.k8s.io/v1 Lease (verbs get, create, update), like
// client-go's leaderelection: acquire when the lease is free, ours, or has not been renewed
// for its duration as observed on our own clock; renew every 2 s; give up leadership when a
// renewal has not succeeded for the renew deadline; release (empty holder) on shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "operator/kube/client.h"

namespace akrobateo::leader {

struct LeaseOptions {
  std::string ns;
  std::string name;
  std::string identity;
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

class LeaderElector {
 public:
  LeaderElector(kube::Client* client, LeaseOptions opts)
      : client_(client), opts_(std::move(opts)) {}

  // Blocks until leadership is acquired (true) or Stop() was called (false).
  bool Acquire();
  // Blocks renewing; returns when leadership is lost (false) or Stop() was called (true).
  bool Hold();
  // Wakes Acquire/Hold.
  void Stop();
  // Gives the lease up so that another instance takes over at once.
  void Release();

 private:
  enum class Outcome { kLeader, kHeldByOther, kError };
  Outcome TryAcquireOrRenew();
  void Sleep(std::chrono::steady_clock::duration d);

  kube::Client* client_;
  LeaseOptions opts_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  // What we last saw of someone else's lease, and when (our clock).
  std::string observed_holder_;
  std::string observed_renew_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::string resource_version_;
  int64_t transitions_ = 0;
  std::string acquire_time_;
};

}  // namespace akrobateo::leader
