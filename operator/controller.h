// SPDX-License-Identifier: Apache-2.0
// Controller: the operator's control loop, from the watches to the writes.
//
//   Register()             wires the five informers to the OnChange* handlers
//   OnChange*(old, now)    map a change to the Service key(s) it can affect and enqueue them;
//                          nothing else (no API call, no reconciler state)
//   RunWorker()            --workers threads, each looping on ProcessNextWorkItem()
//   ProcessNextWorkItem()  one key: Reconciler::Reconcile (Gather -> Plan -> Executor), then
//                          Forget on success or AddRateLimited on error, then Done
//   RunResync()            every 5 minutes: every Service key, and the orphan sweep
//
// Run() owns the rest of the process's life: the API client, the caches, the HTTP servers,
// leader election, the signal thread and the shutdown order (docs/operator.md).
#ifndef AKROBATEO_OPERATOR_CONTROLLER_H_
#define AKROBATEO_OPERATOR_CONTROLLER_H_

#include <chrono>
#include <memory>
#include <string>

#include "operator/api/types.h"
#include "operator/base/shutdown.h"
#include "operator/cache/caches.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/rest_typed_client.h"
#include "operator/leader/lease.h"
#include "operator/metrics/metrics.h"
#include "operator/queue/work_queue.h"
#include "operator/reconcile/handled.h"
#include "operator/reconcile/reconciler.h"

namespace akrobateo {

struct ControllerOptions {
  std::string ns;        // where the balancer DaemonSets (and the Lease) live
  std::string image;     // --nftlb-image
  std::string identity;  // leader election identity and Events' reportingInstance
  reconcile::ClassOptions classes;
  reconcile::AdminPolicy policy;   // --reserved-ports, --trusted-namespaces
  std::string priority_class;      // --balancer-priority-class
  bool cleanup_finalizer = false;  // --cleanup-finalizer
  std::string metrics_addr;
  std::string health_addr;
  bool leader_elect = false;
  int workers = 4;
  double qps = 20;
  int burst = 30;
  leader::LeaseOptions lease;  // the timings; namespace, name and identity are filled in
};

class Controller {
 public:
  static constexpr auto kResyncPeriod = std::chrono::minutes(5);
  // Pod, DaemonSet and EndpointSlice changes come in bursts (three pods of one DaemonSet
  // turning Ready); waiting this long lets one reconcile and one status write cover the burst.
  // Not for a Service's first address: the first pod to turn Ready is reconciled at once
  // (reconcile::PodChangeDelay).
  static constexpr auto kCoalesce = std::chrono::milliseconds(250);

  Controller(kube::Config config, ControllerOptions opts);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Serves until SIGTERM or SIGINT, then stops in order; returns the exit status: 0 after the
  // orderly stop, 2 when the client or the HTTP servers cannot start. Lost leadership ends the
  // process at once with status 1. Call from the main thread before any other thread exists:
  // it blocks the signals for every thread and waits for them on its own.
  int Run();

 private:
  void Register();
  void OnChangeService(const api::Service* old, const api::Service* now);
  void OnChangeNode(const api::Node* old, const api::Node* now);
  void OnChangePod(const api::Pod* old, const api::Pod* now);
  void OnChangeDaemonSet(const api::ObservedDaemonSet* old, const api::ObservedDaemonSet* now);
  void OnChangeEndpointSlice(const api::EndpointSlice* old, const api::EndpointSlice* now);
  void OnChangePodCreateFailure(const api::PodCreateFailure* old, const api::PodCreateFailure* now);
  void RunWorker();
  // False once the queue is shut down.
  bool ProcessNextWorkItem();
  void RunResync();

  kube::Config config_;
  ControllerOptions opts_;
  metrics::Metrics metrics_;
  ShutdownLatch shutdown_;
  queue::WorkQueue queue_;
  // Created by Run(), after the signals are blocked: they start threads.
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<kube::RestTypedClient> typed_client_;
  std::unique_ptr<cache::Caches> caches_;
  std::unique_ptr<reconcile::Reconciler> reconciler_;
};

}  // namespace akrobateo

#endif  // AKROBATEO_OPERATOR_CONTROLLER_H_
