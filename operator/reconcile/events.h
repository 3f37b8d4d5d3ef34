// SPDX-License-Identifier: Apache-2.0
// Events on a Service through events.k8s.io/v1 (verb: create), posted by a background thread
// so that reconciles never wait for them. A failed Event is logged and otherwise ignored: Events
// are best effort. The pending list is bounded; Stop() posts what is pending, then returns.
#ifndef AKROBATEO_OPERATOR_RECONCILE_EVENTS_H_
#define AKROBATEO_OPERATOR_RECONCILE_EVENTS_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "operator/api/event.h"
#include "operator/api/types.h"
#include "operator/kube/typed_client.h"

namespace akrobateo::reconcile {

class EventRecorder {
 public:
  EventRecorder(kube::TypedClient* client, std::string instance);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // `type` is "Normal" or "Warning". Writes one log line at once, posts the Event later.
  void Emit(const api::Service& svc, const std::string& type, const std::string& reason,
            const std::string& note);
  // Returns once every Event emitted before the call has been posted (or failed).
  void Flush();
  void Stop();

 private:
  static constexpr size_t kMaxPending = 2000;
  void Run();

  kube::TypedClient* client_;
  std::string instance_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<api::Event> pending_;
  bool posting_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace akrobateo::reconcile

#endif  // AKROBATEO_OPERATOR_RECONCILE_EVENTS_H_
