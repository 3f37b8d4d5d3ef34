// SPDX-License-Identifier: Apache-2.0
// akrobateo-operator: gives type LoadBalancer Services an address through one nftlb DaemonSet
// each. Wiring only: flags -> config -> caches -> queue -> workers; see docs/operator.md.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>
#include <tuple>

#include "akrobateo/version.h"
#include "operator/base/log.h"
#include "operator/cache/caches.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/leader/lease.h"
#include "operator/metrics/metrics.h"
#include "operator/metrics/server.h"
#include "operator/names.h"
#include "operator/queue/work_queue.h"
#include "operator/reconcile/reconciler.h"
#include "operator/reconcile/triggers.h"

namespace akrobateo {
namespace {

constexpr auto kResyncPeriod = std::chrono::minutes(5);
// Pod, DaemonSet and EndpointSlice changes come in bursts (three pods of one DaemonSet turning
// Ready); waiting this long lets one reconcile and one status write cover the burst.
constexpr auto kCoalesce = std::chrono::milliseconds(250);

struct Flags {
  std::string kubeconfig;
  std::string ns;
  std::string image{names::kDefaultImage};
  std::string lb_class{names::kDefaultClass};
  bool default_class = true;
  std::string metrics_addr = ":8080";
  std::string health_addr = ":8081";
  bool leader_elect = false;
  int workers = 4;
  double qps = 20;
  int burst = 30;
  std::string log_format = "text";
  int verbosity = 0;
  // Leader election timings (hidden flags; docs/operator.md).
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
  leader::LeaseOptions lease;
};

// Set by the signal thread, read by everything that waits.
class Shutdown {
 public:
  void Trigger() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
  }
  bool Done() {
    std::lock_guard lock(mu_);
    return done_;
  }
  // True when shut down, false when `d` passed first.
  template <class D>
  bool WaitFor(D d) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [this] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

std::string Identity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::mt19937_64 rng(std::random_device{}());
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08llx",
                static_cast<unsigned long long>(rng() & 0xffffffffULL));
  return std::string(host) + "_" + suffix;
}

std::string OwnNamespace() {
  std::ifstream in{std::string(names::kInClusterNamespaceFile)};
  std::string ns;
  if (in >> ns && !ns.empty()) return ns;
  return std::string(names::kDefaultNamespace);
}

int Run(const Flags& f) {
  // Signals go to the dedicated thread below only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // --kubeconfig names one file; $KUBECONFIG may list several, merged as kubectl does.
  const char* env = std::getenv("KUBECONFIG");
  Result<kube::Config> cfg = !f.kubeconfig.empty()            ? kube::LoadKubeconfig(f.kubeconfig)
                             : env != nullptr && *env != '\0' ? kube::LoadKubeconfigList(env)
                                                              : kube::LoadInCluster();
  if (!cfg) {
    spdlog::error("config error=\"{}\"", cfg.error());
    return 2;
  }
  std::string ns = f.ns.empty() ? OwnNamespace() : f.ns;
  spdlog::info(
      "starting version={} revision={} server={}://{}:{} config=\"{}\" namespace={} class={} "
      "default_class={} image={} workers={} qps={} burst={} leader_elect={}",
      version::kVersion, version::kRevision.empty() ? "unknown" : version::kRevision, cfg->scheme,
      cfg->host, cfg->port, cfg->source, ns, f.lb_class, f.default_class, f.image, f.workers, f.qps,
      f.burst, f.leader_elect);

  metrics::Metrics metrics;
  auto client_or = kube::Client::Create(*cfg, f.qps, f.burst, &metrics);
  if (!client_or) {
    spdlog::error("config error=\"{}\"", client_or.error());
    return 2;
  }
  kube::Client& client = *client_or.value();
  // With leader election nothing is written before the Lease is ours (leader/lease.h).
  if (f.leader_elect) client.FenceWrites(kube::Client::Clock::time_point::min());

  std::string selector =
      std::string(names::kManagedByLabel) + "=" + std::string(names::kManagedByValue);
  cache::Caches caches(&client, &metrics, ns, selector);
  queue::WorkQueue queue;
  queue.SetMetrics(&metrics);
  std::string identity = Identity();
  reconcile::ReconcilerOptions ropts;
  ropts.classes = {f.lb_class, f.default_class};
  ropts.daemonsets = {ns, f.image};
  ropts.instance = identity;
  ropts.requeue_after = [&queue](const std::string& key, std::chrono::milliseconds delay) {
    queue.AddAfter(key, delay);
  };
  reconcile::Reconciler reconciler(&client, &caches, &metrics, ropts);

  // Handlers only enqueue Service keys.
  caches.services.SetHandler([&](const api::Service* old, const api::Service* now) {
    reconciler.ServiceChanged(old, now);
    queue.Add(cache::ServiceKey(now != nullptr ? *now : *old));
    for (const std::string& k : reconciler.BlockedKeys()) queue.Add(k);
  });
  auto enqueue_load_balancers = [&] {
    caches.services.store().ForEach([&](const std::string& k, const api::Service& s) {
      if (s.type == "LoadBalancer") queue.Add(k);
    });
  };
  caches.nodes.SetHandler([&](const api::Node*, const api::Node*) { enqueue_load_balancers(); });
  caches.pods.SetHandler([&](const api::Pod* old, const api::Pod* now) {
    const api::Pod& p = now != nullptr ? *now : *old;
    if (!p.service_ns.empty() && reconcile::PodChangeMatters(old, now))
      queue.AddAfter(cache::NsName(p.service_ns, p.service_name), kCoalesce);
  });
  caches.daemonsets.SetHandler([&](const api::DaemonSetInfo* old, const api::DaemonSetInfo* now) {
    const api::DaemonSetInfo& d = now != nullptr ? *now : *old;
    if (!d.service_ns.empty() && reconcile::DaemonSetChangeMatters(old, now))
      queue.AddAfter(cache::NsName(d.service_ns, d.service_name), kCoalesce);
  });
  caches.slices.SetHandler([&](const api::EndpointSlice* old, const api::EndpointSlice* now) {
    const api::EndpointSlice& e = now != nullptr ? *now : *old;
    if (e.service_name.empty()) return;
    std::string key = cache::NsName(e.ns, e.service_name);
    auto svc = caches.services.store().Get(key);
    if (svc && svc->type == "LoadBalancer" && svc->external_traffic_local)
      queue.AddAfter(key, kCoalesce);
  });

  Shutdown shutdown;
  leader::LeaseOptions lease = f.lease;
  lease.ns = ns;
  lease.name = std::string(names::kLeaseName);
  lease.identity = identity;
  leader::LeaderElector elector(&client, lease);
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    // Run() itself sends SIGTERM to end this thread once it is already shutting down.
    if (!shutdown.Done()) {
      spdlog::info("shutdown signal={}", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    shutdown.Trigger();
    elector.Stop();
  });

  metrics::HttpServers servers(&metrics, [&caches] { return caches.Synced(); });
  if (auto r = servers.Start(f.metrics_addr, f.health_addr); !r) {
    spdlog::error("serve error=\"{}\"", r.error());
    shutdown.Trigger();
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    return 2;
  }

  caches.Start();
  while (!caches.Synced() && !shutdown.WaitFor(std::chrono::milliseconds(50))) {
  }
  if (caches.Synced()) {
    spdlog::info("caches synced services={} nodes={} endpointslices={} daemonsets={} pods={}",
                 caches.services.store().Size(), caches.nodes.store().Size(),
                 caches.slices.store().Size(), caches.daemonsets.store().Size(),
                 caches.pods.store().Size());
  }

  bool leader = !shutdown.Done() && (!f.leader_elect || elector.Acquire());
  metrics.SetLeader(leader);
  std::vector<std::thread> workers;
  std::thread resync;
  int exit_code = 0;
  if (leader) {
    if (!f.leader_elect) spdlog::info("leader election disabled; this instance writes");
    for (int i = 0; i < f.workers; ++i) {
      workers.emplace_back([&] {
        while (auto key = queue.Get()) {
          std::string err = reconciler.Reconcile(*key);
          if (err.empty()) {
            queue.Forget(*key);
          } else {
            queue.AddRateLimited(*key);
          }
          queue.Done(*key);
        }
      });
    }
    resync = std::thread([&] {
      do {
        std::vector<std::string> keys = reconciler.ResyncKeys();
        spdlog::info("resync keys={}", keys.size());
        for (const std::string& k : keys) queue.Add(k);
      } while (!shutdown.WaitFor(kResyncPeriod));
    });
    if (f.leader_elect) {
      if (!elector.Hold()) {
        // Lost the lease: writes are already refused (the client's write fence passed at the
        // renew deadline). Exit now rather than after an orderly stop, which could wait on
        // the very API connection that stalled; the kubelet restarts us as a follower.
        metrics.SetLeader(false);
        spdlog::error("exit=1 leadership lost");
        spdlog::default_logger()->flush();
        std::_Exit(1);
      }
    } else {
      while (!shutdown.WaitFor(std::chrono::hours(1))) {
      }
    }
  }

  // Orderly stop: watches, then in-flight reconciles, then the lease.
  client.Shutdown();
  caches.Stop();
  queue.ShutDown();
  for (std::thread& w : workers) w.join();
  if (resync.joinable()) resync.join();
  reconciler.Stop();
  if (leader && f.leader_elect && exit_code == 0) elector.Release();
  servers.Stop();
  if (!shutdown.Done()) shutdown.Trigger();
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  spdlog::info("shutdown complete exit={}", exit_code);
  return exit_code;
}

}  // namespace
}  // namespace akrobateo

int main(int argc, char** argv) {
  // Few malloc arenas: the operator's threads mostly wait, and one arena per thread would
  // keep each thread's transient JSON as resident memory.
  mallopt(M_ARENA_MAX, 2);
  akrobateo::Flags f;
  CLI::App app{"akrobateo-operator: LoadBalancer Services through nftlb DaemonSets"};
  app.set_version_flag("--version", akrobateo::version::Line("akrobateo-operator"));
  app.add_option("--kubeconfig", f.kubeconfig,
                 "kubeconfig path (else $KUBECONFIG, else in-cluster)");
  app.add_option("--namespace", f.ns,
                 "namespace of the balancer DaemonSets (default: own, else akrobateo-system)");
  app.add_option("--nftlb-image", f.image, "image of the balancer pods")->capture_default_str();
  app.add_option("--load-balancer-class", f.lb_class, "loadBalancerClass handled")
      ->capture_default_str();
  app.add_option("--default-class", f.default_class,
                 "also handle Services without a loadBalancerClass (true|false)")
      ->capture_default_str();
  app.add_option("--metrics-bind-address", f.metrics_addr, "address of /metrics (0 disables)")
      ->capture_default_str();
  app.add_option("--health-probe-bind-address", f.health_addr,
                 "address of /healthz and /readyz (0 disables)")
      ->capture_default_str();
  app.add_flag("--leader-elect", f.leader_elect,
               "elect a leader through a Lease; only the leader writes");
  app.add_option("--workers", f.workers, "reconcile worker threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--qps", f.qps, "client-side request rate to the API server")
      ->check(CLI::Range(0.1, 100000.0))
      ->capture_default_str();
  app.add_option("--burst", f.burst, "client-side request burst")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--log-format", f.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("-v", f.verbosity, "log verbosity (0 info, 1 debug, 2 trace)")
      ->check(CLI::Range(0, 10));
  // Hidden: leader election timings, for tests and unusual clusters (docs/operator.md).
  app.add_option("--leader-elect-lease-duration", f.lease_duration)->group("");
  app.add_option("--leader-elect-renew-deadline", f.renew_deadline)->group("");
  app.add_option("--leader-elect-retry-period", f.retry_period)->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (auto [flag, text, out] :
       {std::tuple{"--leader-elect-lease-duration", &f.lease_duration, &f.lease.lease_duration},
        std::tuple{"--leader-elect-renew-deadline", &f.renew_deadline, &f.lease.renew_deadline},
        std::tuple{"--leader-elect-retry-period", &f.retry_period, &f.lease.retry_period}}) {
    auto d = akrobateo::leader::ParseDuration(*text);
    if (!d) {
      std::fprintf(stderr, "%s: %s\n", flag, d.error().c_str());
      return 2;
    }
    *out = *d;
  }
  if (std::string err = akrobateo::leader::CheckTimings(f.lease); !err.empty()) {
    std::fprintf(stderr,
                 "leader election timings: %s (lease duration %s, renew deadline %s, "
                 "retry period %s)\n",
                 err.c_str(), f.lease_duration.c_str(), f.renew_deadline.c_str(),
                 f.retry_period.c_str());
    return 2;
  }
  akrobateo::SetupLogging(f.log_format, f.verbosity);
  return akrobateo::Run(f);
}
