// SPDX-License-Identifier: Apache-2.0
#include "operator/controller.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "operator/base/log.h"
#include "operator/metrics/server.h"
#include "operator/names.h"
#include "operator/reconcile/triggers.h"

namespace akrobateo {

Controller::Controller(kube::Config config, ControllerOptions opts)
    : config_(std::move(config)), opts_(std::move(opts)) {
  queue_.SetMetrics(&metrics_);
}

Controller::~Controller() = default;

void Controller::Register() {
  caches_->services.SetHandler(
      [this](const api::Service* old, const api::Service* now) { OnChangeService(old, now); });
  caches_->nodes.SetHandler(
      [this](const api::Node* old, const api::Node* now) { OnChangeNode(old, now); });
  caches_->pods.SetHandler(
      [this](const api::Pod* old, const api::Pod* now) { OnChangePod(old, now); });
  caches_->daemonsets.SetHandler(
      [this](const api::ObservedDaemonSet* old, const api::ObservedDaemonSet* now) {
        OnChangeDaemonSet(old, now);
      });
  caches_->slices.SetHandler([this](const api::EndpointSlice* old, const api::EndpointSlice* now) {
    OnChangeEndpointSlice(old, now);
  });
  caches_->create_failures.SetHandler(
      [this](const api::PodCreateFailure* old, const api::PodCreateFailure* now) {
        OnChangePodCreateFailure(old, now);
      });
}

void Controller::OnChangeService(const api::Service* old, const api::Service* now) {
  queue_.Add(cache::ServiceKey(now != nullptr ? *now : *old));
  // A change of any Service can end a port conflict (the holder went, or moved its port).
  for (const std::string& k : reconciler_->BlockedKeys()) queue_.Add(k);
}

void Controller::OnChangeNode(const api::Node*, const api::Node*) {
  // Node labels (enablelb, lbpool) and addresses can change every LoadBalancer's decision.
  caches_->services.store().ForEach([this](const std::string& k, const api::Service& s) {
    if (s.type == "LoadBalancer") queue_.Add(k);
  });
}

void Controller::OnChangePod(const api::Pod* old, const api::Pod* now) {
  const api::Pod& p = now != nullptr ? *now : *old;
  if (p.service_ns.empty() || !reconcile::PodChangeMatters(old, now)) return;
  const std::string key = cache::NsName(p.service_ns, p.service_name);
  // The Service is looked up only for a Ready pod, the one case where it can shorten the wait.
  std::optional<api::Service> svc;
  if (now != nullptr && now->ready) svc = caches_->services.store().Get(key);
  queue_.AddAfter(key, reconcile::PodChangeDelay(old, now, svc ? &*svc : nullptr, kCoalesce));
}

void Controller::OnChangeDaemonSet(const api::ObservedDaemonSet* old,
                                   const api::ObservedDaemonSet* now) {
  const api::ObservedDaemonSet& d = now != nullptr ? *now : *old;
  if (!d.service_ns.empty() && reconcile::DaemonSetChangeMatters(old, now)) {
    queue_.AddAfter(cache::NsName(d.service_ns, d.service_name), kCoalesce);
  }
}

void Controller::OnChangePodCreateFailure(const api::PodCreateFailure* old,
                                          const api::PodCreateFailure* now) {
  // A new or repeated refusal (the Event's message or time moved); an Event that expires
  // changes nothing.
  if (now == nullptr || (old != nullptr && old->message == now->message)) return;
  caches_->daemonsets.store().ForEach([&](const std::string&, const api::ObservedDaemonSet& d) {
    if (d.uid == now->daemonset_uid && !d.service_ns.empty()) {
      queue_.AddAfter(cache::NsName(d.service_ns, d.service_name), kCoalesce);
    }
  });
}

void Controller::OnChangeEndpointSlice(const api::EndpointSlice* old,
                                       const api::EndpointSlice* now) {
  const api::EndpointSlice& e = now != nullptr ? *now : *old;
  if (e.service_name.empty()) return;
  std::string key = cache::NsName(e.ns, e.service_name);
  auto svc = caches_->services.store().Get(key);
  if (svc && svc->type == "LoadBalancer" && svc->external_traffic_local) {
    queue_.AddAfter(key, kCoalesce);
  }
}

void Controller::RunWorker() {
  while (ProcessNextWorkItem()) {
  }
}

bool Controller::ProcessNextWorkItem() {
  std::optional<std::string> key = queue_.Get();
  if (!key) return false;
  if (reconciler_->Reconcile(*key)) {
    queue_.Forget(*key);
  } else {
    queue_.AddRateLimited(*key);
  }
  queue_.Done(*key);
  return true;
}

void Controller::RunResync() {
  do {
    std::vector<std::string> keys = reconciler_->ResyncKeys();
    LogInfo("resync", {{"keys", keys.size()}});
    for (const std::string& k : keys) queue_.Add(k);
  } while (!shutdown_.WaitFor(kResyncPeriod));
}

int Controller::Run() {
  // Signals go to the dedicated thread below only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto client_or = kube::Client::Create(config_, opts_.qps, opts_.burst, &metrics_);
  if (!client_or) {
    LogError("config", {Quoted("error", client_or.error())});
    return 2;
  }
  client_ = std::move(client_or).value();
  kube::Client& client = *client_;
  // With leader election nothing is written before the Lease is ours (leader/lease.h).
  if (opts_.leader_elect) client.FenceWrites(kube::Client::Clock::time_point::min());
  typed_client_ = std::make_unique<kube::RestTypedClient>(&client);

  std::string selector =
      std::string(names::kManagedByLabel) + "=" + std::string(names::kManagedByValue);
  caches_ = std::make_unique<cache::Caches>(&client, &metrics_, opts_.ns, selector);
  reconcile::ReconcilerOptions ropts;
  ropts.classes = opts_.classes;
  ropts.daemonsets = {opts_.ns, opts_.image, opts_.priority_class};
  ropts.policy = opts_.policy;
  ropts.cleanup_finalizer = opts_.cleanup_finalizer;
  ropts.instance = opts_.identity;
  ropts.requeue_after = [this](const std::string& key, std::chrono::milliseconds delay) {
    queue_.AddAfter(key, delay);
  };
  reconcile::Listers listers{caches_->services.written_store(),
                             &caches_->nodes.store(),
                             &caches_->slices.store(),
                             &caches_->daemonsets.store(),
                             &caches_->pods.store(),
                             &caches_->create_failures.store()};
  reconciler_ =
      std::make_unique<reconcile::Reconciler>(typed_client_.get(), listers, &metrics_, ropts);
  Register();

  leader::LeaseOptions lease = opts_.lease;
  lease.ns = opts_.ns;
  lease.name = std::string(names::kLeaseName);
  lease.identity = opts_.identity;
  leader::LeaderElector elector(typed_client_.get(), client.fence(), lease);
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    // Run() itself sends SIGTERM to end this thread once it is already shutting down.
    if (!shutdown_.Done()) {
      LogInfo("shutdown", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    }
    shutdown_.Trigger();
    elector.Stop();
  });

  metrics::HttpServers servers(&metrics_, [this] { return caches_->Synced(); });
  if (auto r = servers.Start(opts_.metrics_addr, opts_.health_addr); !r) {
    LogError("serve", {Quoted("error", r.error())});
    shutdown_.Trigger();
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    return 2;
  }

  caches_->Start();
  while (!caches_->Synced() && !shutdown_.WaitFor(std::chrono::milliseconds(50))) {
  }
  if (caches_->Synced()) {
    LogInfo("caches synced", {{"services", caches_->services.store().Size()},
                              {"nodes", caches_->nodes.store().Size()},
                              {"endpointslices", caches_->slices.store().Size()},
                              {"daemonsets", caches_->daemonsets.store().Size()},
                              {"pods", caches_->pods.store().Size()},
                              {"create_failures", caches_->create_failures.store().Size()}});
  }

  bool leader = !shutdown_.Done() && (!opts_.leader_elect || elector.Acquire());
  metrics_.SetLeader(leader);
  std::vector<std::thread> workers;
  std::thread resync;
  if (leader) {
    if (!opts_.leader_elect) LogInfo("leader election disabled; this instance writes");
    for (int i = 0; i < opts_.workers; ++i) workers.emplace_back([this] { RunWorker(); });
    resync = std::thread([this] { RunResync(); });
    if (opts_.leader_elect) {
      if (!elector.Hold()) {
        // Lost the lease: writes are already refused (the client's write fence passed at the
        // renew deadline). Exit now rather than after an orderly stop, which could wait on
        // the very API connection that stalled; the kubelet restarts us as a follower.
        metrics_.SetLeader(false);
        // Text as test/cluster/cases/stall.sh greps it (the message holds the exit status).
        LogError("exit=1 leadership lost");
        std::_Exit(1);
      }
    } else {
      while (!shutdown_.WaitFor(std::chrono::hours(1))) {
      }
    }
  }

  // Orderly stop: watches, then in-flight reconciles, then the pending Events, then the lease.
  client.Shutdown();
  caches_->Stop();
  queue_.ShutDown();
  for (std::thread& w : workers) w.join();
  if (resync.joinable()) resync.join();
  reconciler_->Stop();
  if (leader && opts_.leader_elect) elector.Release();
  servers.Stop();
  if (!shutdown_.Done()) shutdown_.Trigger();
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  LogInfo("shutdown complete", {{"exit", 0}});
  return 0;
}

}  // namespace akrobateo
